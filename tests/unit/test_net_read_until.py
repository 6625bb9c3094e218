"""The one "read the channel until an answer is complete" loop (``device._read_until``).

Both the lab's vtysh login and ``FrrSession.batch`` wait through it, so its contract is pinned
here: parse only after a read that brought text, sleep only after a read that brought nothing,
a bounded wait whose error names what was awaited — and batch's full parse of its (large) buffer
only when the buffer ends at the prompt.
"""

from __future__ import annotations

import re
import time

import pytest

from egovops.network import device
from egovops.network.credentials import Credentials, Secret

pytestmark = pytest.mark.unit


class Script:
    """A channel whose reads return the given pieces, then ``tail`` (bounded: a loop that never ends fails)."""

    def __init__(self, pieces: list[str], tail: str = "") -> None:
        self.pieces, self.tail, self.reads, self.written = list(pieces), tail, 0, ""

    def read_channel(self) -> str:
        self.reads += 1
        if self.reads > 2_000_000:
            raise AssertionError("still reading after 2,000,000 reads: the wait is not bounded")
        return self.pieces.pop(0) if self.pieces else self.tail

    def write_channel(self, text: str) -> None:
        self.written += text


def test_parses_only_after_text_and_sleeps_only_after_nothing(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    seen: list[str] = []

    def parse(buf: str) -> str | None:
        seen.append(buf)
        return "done" if buf.endswith("#") else None

    conn = Script(["", "ab", "", "", "c#"])
    assert device._read_until(conn, parse, 5.0, "x") == "done"
    assert seen == ["ab", "abc#"]                 # never on an empty read, always the whole buffer
    assert sleeps == [0.01, 0.01, 0.01]           # one per empty read, none after a read with text
    assert conn.reads == 5


def test_a_silent_channel_times_out_naming_what_was_awaited():
    conn = Script(["partial"])
    t0 = time.monotonic()
    with pytest.raises(TimeoutError) as err:
        device._read_until(conn, lambda buf: None, 0.2, "no complete answer to 3 command(s)")
    elapsed = time.monotonic() - t0
    assert str(err.value) == "no complete answer to 3 command(s) within 0.2s (7 characters read)"
    assert 0.2 <= elapsed < 2
    assert conn.reads < 100                       # slept between empty reads, no busy loop


def test_a_channel_that_never_stops_talking_still_times_out():
    # the deadline holds even when every read brings text (a device printing forever)
    conn = Script([], tail="noise\n")
    with pytest.raises(TimeoutError, match=r"^login within 0.2s \(last: 'noise'\)$"):
        device._read_until(conn, lambda buf: None, 0.2, "login",
                           detail=lambda buf: f"last: {buf.splitlines()[-1]!r}")


class Vtysh:
    """vtysh as netmiko sees it: typed-ahead lines answered one by one, read in 7-character pieces."""

    prompt = "hefei-rt#"

    def __init__(self, answers: dict[str, str], stop_before_prompt: bool = False) -> None:
        self.answers, self.pending, self.stop = answers, "", stop_before_prompt

    def write_channel(self, data: str) -> None:
        cmds = [c for c in data.split("\n") if c]
        for i, c in enumerate(cmds):
            self.pending += (f"{self.prompt} " if i else "") + c + "\r\n" + self.answers[c] + "\r\n"
        if not self.stop:
            self.pending += f"{self.prompt} "

    def read_channel(self) -> str:
        chunk, self.pending = self.pending[:7], self.pending[7:]
        return chunk


def frr(conn: Vtysh, timeout: float = 5.0) -> device.FrrSession:
    s = device.FrrSession(device.Target("hefei-rt", "frr", "198.18.32.1", timeout=timeout),
                          Credentials("u", Secret("p"), "t"), conn=conn)
    s._prompt = Vtysh.prompt
    return s


def test_batch_without_the_closing_prompt_is_a_device_error_naming_the_device():
    s = frr(Vtysh({"show version": "FRRouting 8.4.4"}, stop_before_prompt=True), timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(device.DeviceError) as err:
        s.batch(["show version"])
    assert time.monotonic() - t0 < 2
    assert re.fullmatch(r"hefei-rt: \['show version'\] failed: TimeoutError: no complete answer to 1 command\(s\) "
                        r"within 0\.3s \(\d+ characters read\)", str(err.value)), str(err.value)


def test_batch_parses_its_whole_buffer_only_once_it_ends_at_the_prompt(monkeypatch):
    big = "\n".join(f"interface eth{i}\n ip address 198.18.32.{i % 250}/31" for i in range(200))   # ~8 kB
    s = frr(Vtysh({"show running-config": big, "show interface json": "{}"}))
    full_parses: list[int] = []
    ansi = device.ANSI

    class CountingAnsi:
        def sub(self, repl: str, text: str) -> str:
            if len(text) > 512:
                full_parses.append(len(text))
            return ansi.sub(repl, text)

    monkeypatch.setattr(device, "ANSI", CountingAnsi())
    answers = s.batch(["show running-config", "show interface json"])
    assert answers["show running-config"] == big + "\n" and answers["show interface json"] == "{}\n"
    # ~1300 reads of 7 characters; the buffer ends at the prompt at the end and at most once more
    # (after the first answer, if a piece happens to end there): one or two full parses, not one per read
    assert 1 <= len(full_parses) <= 2, len(full_parses)
