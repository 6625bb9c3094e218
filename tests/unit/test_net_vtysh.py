"""The lab's vtysh driver: login preparation in one round trip, ``write memory`` through the batch read.

A fake channel plays vtysh: a banner, then for every typed line its prompt-prefixed echo, the
answer and the next prompt (vtysh reads typed-ahead lines one by one).
"""

from __future__ import annotations

import time

import pytest

from egovops.network import device
from egovops.network.credentials import Credentials, Secret

pytestmark = pytest.mark.unit

SAVED = ("Note: this version of vtysh never writes vtysh.conf\nBuilding Configuration...\n"
         "Integrated configuration saved to /etc/frr/sf6-hefei-rt/frr.conf\n[OK]")


class FakeVtysh:
    RETURN = "\n"

    def __init__(self, host: str = "hefei-rt", answers: dict[str, str] | None = None, mute: bool = False) -> None:
        self.prompt = f"{host}# "
        self.answers = answers or {}
        self.mute = mute
        self.out = "\x1b[?1034hHello, this is FRRouting (version 8.4.4).\r\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\r\n\r\n"
        self.out += "" if mute else self.prompt
        self.typed: list[str] = []
        self.timeout = 5.0
        self.disconnected = False
        self.vtysh_prompt: str | None = None       # set by the preparation
        self.base_prompt = ""

    def write_channel(self, text: str) -> None:
        for line in text.splitlines():
            self.typed.append(line)
            if not self.mute:
                self.out += f"{line}\r\n{self.answers.get(line, '')}\r\n{self.prompt}".replace("\r\n\r\n", "\r\n")

    def read_channel(self) -> str:
        out, self.out = self.out, ""
        return out

    def disconnect(self) -> None:
        self.disconnected = True


def test_preparation_turns_paging_off_and_learns_the_full_prompt_in_one_write():
    conn = FakeVtysh("xuancheng-jingxian-rt")      # longer than netmiko's 16-character base prompt
    device._vtysh_preparation(conn)
    assert conn.typed == ["terminal length 0"]
    assert conn.vtysh_prompt == "xuancheng-jingxian-rt#" and conn.base_prompt == "xuancheng-jingxian-rt"
    s = device.FrrSession(device.Target("xuancheng-jingxian-rt", "frr", "198.19.96.9"), Credentials("u", Secret("p"), "t"),
                          conn=conn)
    assert s._exec_prompt() == "xuancheng-jingxian-rt#"      # no find_prompt round trip


def test_preparation_without_a_prompt_times_out_and_closes_the_session():
    conn = FakeVtysh(mute=True)
    conn.timeout = 0.3
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="no vtysh prompt"):
        device._vtysh_preparation(conn)
    assert conn.disconnected and time.monotonic() - t0 < 2


def test_the_lab_driver_class_uses_the_one_round_trip_preparation():
    cls = device._verified_class("cisco_ios")
    assert cls.__dict__["_try_session_preparation"] is device._vtysh_preparation
    assert cls.__dict__["cleanup"] is device._vtysh_cleanup
    assert "_try_session_preparation" not in device._verified_class("huawei_vrpv8").__dict__   # VRP keeps netmiko's


@pytest.mark.parametrize("answer,ok", [(SAVED, True), ("% Can't open configuration file /etc/frr/frr.conf.sav", False),
                                       ("", False)])
def test_write_memory_confirms_only_on_the_saved_answer(answer, ok):
    conn = FakeVtysh(answers={"write memory": answer})
    device._vtysh_preparation(conn)
    s = device.FrrSession(device.Target("hefei-rt", "frr", "198.19.96.9"), Credentials("u", Secret("p"), "t"), conn=conn)
    if ok:
        s.save()
    else:
        with pytest.raises(device.DeviceError, match="write memory did not confirm"):
            s.save()
    assert conn.typed == ["terminal length 0", "write memory"]
