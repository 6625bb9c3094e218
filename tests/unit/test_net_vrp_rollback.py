"""Huawei VRP: a failed rollback of a trial commit (issue 12), driven through the push engine.

The device is a small VRP8 two-stage box (candidate, running, one persistent trial) that answers
with the recorded VRP dialogue in tests/fixtures/net/vrp_commit/answers.yaml and runs on a real
rendered router config (tests/fixtures/net/huawei_vrp/chuzhou-rt.cfg). Verification always fails
(the loopback does not answer), so every push restores:

- abort ok: the trial is aborted, nothing else is committed, the device is ``rolled-back``;
- abort fails (refused, channel lost, timed out, acknowledged without rolling back): the reverse
  diff is applied AND committed (on a fresh session when the channel broke), the running config
  read back equals the backup: ``rolled-back``;
- the reverse diff fails (a line or the commit refused, the channel lost, no new session, a commit
  that changes nothing): the device is ``unknown``, never ok.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from netmiko.exceptions import ReadTimeout

from egovops.network import confdiff
from egovops.network.credentials import Credentials
from egovops.network.device import ROLLBACK_COMMIT, DeviceError, Target, VrpSession
from egovops.network.push import Plan, PushEngine, PushOptions
from egovops.network.vrp_state import COMMANDS

pytestmark = pytest.mark.unit

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "net"
SAY: dict[str, str] = yaml.safe_load((FIX / "vrp_commit" / "answers.yaml").read_text())
BEFORE = (FIX / "huawei_vrp" / "chuzhou-rt.cfg").read_text()
NAME = "chuzhou-rt"
PERSIST = f"egovops-{NAME}"
VRP = confdiff.VRP
HEADER = re.compile(VRP.header)
PORTS = {"up-d": "GigabitEthernet0/0/1", "up-e": "GigabitEthernet0/0/2"}
# the recorded ``display`` tables (OSPF/OSPFv3/BFD/BGP) the verify reads before and after the change
STATE = {
    c: (FIX / "vrp_state" / (c.replace("display ", "display_").replace(" ", "_") + ".txt")).read_text()
    for c in COMMANDS.values()
}


def _changed(before: str) -> str:
    """The pushed change: a cost changed, a line removed, a new interface section added."""
    after = before.replace(" ospf cost 10\n ospf timer hello 1", " ospf cost 50\n ospf timer hello 1", 1)
    after = after.replace(" ospf bfd enable\n", "", 1)
    return (
        after
        + "#\ninterface GigabitEthernet0/0/31\n description spare port\n ip address 198.18.99.1 255.255.255.254\n#\n"
    )


INTENDED = _changed(BEFORE)


def render(node: confdiff.Node, depth: int = 0) -> list[str]:
    out: list[str] = []
    for line, child in node.children.items():
        out.append(" " * depth + line)
        out += render(child, depth + 1)
        if depth == 0:
            out.append("#")
    return out


class Box:
    """The device: running config as a tree, a candidate (command list), a persistent trial."""

    def __init__(self, abort: str = "ok", commit: str = "ok", refuse: frozenset[str] = frozenset()) -> None:
        self.running = confdiff.parse(BEFORE, VRP)
        self.trial: dict[str, Any] | None = None
        self.abort, self.commit, self.refuse = abort, commit, refuse
        self.log: list[str] = []
        self.opens = 0
        self.refuse_connect_after = 99
        self.saved = 0
        self.aborts_lost = 0

    def text(self) -> str:
        return "\n".join(render(self.running)) + "\nreturn\n"

    def run(self, commands: list[str]) -> None:
        """Apply config-mode commands to the running tree like VRP: sections entered, ``undo`` removes."""
        stack = [self.running]
        for c in (x.strip() for x in commands):
            node = stack[-1]
            if c == "quit":
                stack.pop()
            elif c.startswith("undo "):
                target = c[len("undo ") :]
                for line in [ln for ln in node.children if ln == target or ln.startswith(target + " ")][:1]:
                    del node.children[line]
            else:
                child = node.children.setdefault(c, confdiff.Node(c))
                if HEADER.match(c):
                    child.section = True
                    stack.append(child)

    def expire(self) -> None:
        """The trial timer runs out: VRP reverts to the configuration before the trial."""
        if self.trial:
            self.running, self.trial = self.trial["before"], None


class Channel:
    """One SSH session to the box as netmiko's huawei_vrpv8 driver exposes it."""

    def __init__(self, box: Box) -> None:
        self.box, self.candidate, self.dead = box, [], False
        box.opens += 1

    def _alive(self, command: str) -> None:
        self.box.log.append(command)
        if self.dead:
            raise OSError("Socket is closed")

    def config_mode(self) -> None:
        self._alive("system-view")

    def exit_config_mode(self) -> None:
        self._alive("return")

    def send_config_set(self, commands, cmd_verify=False, exit_config_mode=False, read_timeout=None):
        out = []
        for c in commands:
            self._alive(c)
            if c.strip() in self.box.refuse:
                out.append(SAY["unrecognized"].format(name=NAME, command=c))
            else:
                self.candidate.append(c)
                out.append(f"[*{NAME}]{c}")
        return "\n".join(out)

    def send_command_timing(self, command, read_timeout=None):
        self._alive(command)
        box = self.box
        if command == "clear configuration candidate":
            self.candidate = []
            return SAY["clear_candidate"]
        if command.startswith("commit trial "):
            seconds = int(command.split()[2])
            box.trial = {"id": command.split()[4], "before": confdiff.parse(box.text(), VRP)}
            box.run(self.candidate)
            self.candidate = []
            return SAY["commit_trial"].format(seconds=seconds)
        if command.startswith("abort trial persist "):
            if box.abort == "channel-lost" or (box.abort == "channel-lost-once" and not box.aborts_lost):
                box.aborts_lost += 1
                self.dead = True
                raise OSError("Socket is closed")
            if box.abort == "timeout":
                self.dead = True  # what is left on this channel is half an answer
                raise ReadTimeout("Pattern not detected: '\\]' in output.")
            if box.abort == "refused":
                return SAY["abort_busy"]
            if not box.trial or box.trial["id"] != command.split()[3]:
                return SAY["no_trial"]
            if box.abort in ("ok", "channel-lost-once"):
                box.running = box.trial["before"]
            box.trial = None  # "acknowledged": the box says so but keeps the change
            return SAY["abort_ok"]
        if command == ROLLBACK_COMMIT:
            if box.commit == "locked":
                return SAY["commit_locked"]
            if box.commit == "channel-lost":
                self.dead = True
                raise OSError("Socket is closed")
            if box.commit != "noop":
                box.run(self.candidate)
            self.candidate = []
            return SAY["commit_ok"].format(name=NAME)
        raise AssertionError(f"unexpected command {command!r}")

    def send_command(self, command, read_timeout=None):
        self._alive(command)
        if command == "display current-configuration":
            return self.box.text()
        if command in STATE:
            return STATE[command]
        raise AssertionError(f"unexpected command {command!r}")

    def save_config(self):
        self._alive("save")
        self.box.saved += 1
        return "Info: Save the configuration successfully."

    def disconnect(self) -> None:
        self.dead = True


class Down:
    """Verification fails: the router's loopback does not answer after the change."""

    name = "test vantage"

    def reachable(self, address: str) -> bool:
        return False


def push(box: Box) -> Any:
    target = Target(NAME, "huawei_vrp", "198.18.5.1", ports=PORTS)
    creds = Credentials("u", None, "test")

    def opener(t: Target, c: Credentials) -> VrpSession:
        if box.opens >= box.refuse_connect_after:
            raise DeviceError(f"{NAME}: cannot connect to 198.18.5.1:22: timed out")
        return VrpSession(t, c, conn=Channel(box))

    opts = PushOptions(workers=1, min_hold=0, settle_timeout=0.2, confirm_timeout=60, verify=True)
    rep = PushEngine(
        [Plan(target, INTENDED, loopbacks=("198.18.5.1",))], creds, opts, vantage=Down(), opener=opener
    ).run()
    assert f"commit trial 60 persist {PERSIST}" in box.log and f"abort trial persist {PERSIST}" in box.log
    return rep


def test_the_change_is_a_real_diff_and_reaches_the_running_config_on_trial():
    d = confdiff.diff(BEFORE, INTENDED, VRP)
    assert confdiff.summary(d) == {"add": 2, "remove": 2}  # cost (-/+), bfd line (-), new section (+)
    box = Box(abort="refused")
    box.running = confdiff.parse(BEFORE, VRP)
    s = VrpSession(Target(NAME, "huawei_vrp", "198.18.5.1"), Credentials("u", None, "test"), conn=Channel(box))
    s.apply(confdiff.commands(d, INTENDED, VRP))
    s.stage(60)
    assert confdiff.equivalent(box.text(), INTENDED, VRP) and not confdiff.equivalent(box.text(), BEFORE, VRP)


def test_abort_ok_rolls_back_without_a_reverse_commit():
    box = Box(abort="ok")
    rep = push(box)
    r = rep.results[0]
    assert r.status == "rolled-back", (r.status, r.error)
    assert r.rollback["aborted"] is True and r.rollback["equal_to_before"] is True
    assert ROLLBACK_COMMIT not in box.log and "reverse_commands" not in r.rollback
    assert confdiff.equivalent(box.text(), BEFORE, VRP) and box.trial is None and box.saved == 0
    assert rep.unknown == [] and box.opens == 1


def test_an_abort_lost_with_its_channel_is_retried_on_a_fresh_session():
    """The named trial outlives the session: the device's own abort from a new session is the rollback
    (no reverse diff committed), proven by reading the running config back."""
    box = Box(abort="channel-lost-once")
    rep = push(box)
    r = rep.results[0]
    assert r.status == "rolled-back", (r.status, r.error, r.rollback)
    assert r.rollback["aborted"] is True and r.rollback["abort_retried"] is True and r.rollback["abort_error"]
    assert ROLLBACK_COMMIT not in box.log and "reverse_commands" not in r.rollback
    assert box.log.count(f"abort trial persist {PERSIST}") == 2 and box.opens == 2
    assert confdiff.equivalent(box.text(), BEFORE, VRP) and box.trial is None and box.saved == 0


@pytest.mark.parametrize("abort", ["refused", "channel-lost", "timeout", "acknowledged"])
def test_failed_abort_commits_the_reverse_diff_and_proves_it(abort):
    box = Box(abort=abort)
    rep = push(box)
    r = rep.results[0]
    assert r.status == "rolled-back", (r.status, r.error, r.rollback)
    assert r.rollback["aborted"] is False
    assert abort == "refused" or r.rollback["abort_error"]  # refused: VRP's own Error line is logged
    assert r.rollback["reverse_committed"] is True and r.rollback["reverse_commands"] > 0
    assert r.rollback["equal_to_before"] is True and rep.unknown == []
    # committed: the reverse diff went to the device and then `commit`, after the failed abort
    tail = box.log[box.log.index(f"abort trial persist {PERSIST}") :]
    assert ROLLBACK_COMMIT in tail and any(c.strip() == "ospf cost 10" for c in tail)
    assert confdiff.equivalent(box.text(), BEFORE, VRP)
    box.expire()  # a trial still pending on the box reverts to the same config
    assert confdiff.equivalent(box.text(), BEFORE, VRP) and box.saved == 0
    # a broken channel is not reused: the abort is retried on a fresh session, the fallback on another
    assert box.opens == (3 if abort in ("channel-lost", "timeout") else 1)
    assert box.log.count(f"abort trial persist {PERSIST}") == (2 if abort in ("channel-lost", "timeout") else 1)


@pytest.mark.parametrize(
    "abort,commit,refuse,reopen",
    [
        ("refused", "locked", frozenset(), True),  # the reverse commit refused
        ("refused", "ok", frozenset({"ospf cost 10"}), True),  # a line of the reverse diff refused
        ("refused", "channel-lost", frozenset(), True),  # the channel dies on the commit
        ("refused", "noop", frozenset(), True),  # "committed", but nothing changed
        ("channel-lost", "ok", frozenset(), False),  # no new session for the fallback
    ],
    ids=["commit-refused", "line-refused", "commit-channel-lost", "commit-changes-nothing", "no-reconnect"],
)
def test_failed_reverse_diff_leaves_the_device_unknown(abort, commit, refuse, reopen):
    box = Box(abort=abort, commit=commit, refuse=refuse)
    if not reopen:
        box.refuse_connect_after = 1
    rep = push(box)
    r = rep.results[0]
    assert r.status == "unknown", (r.status, r.error, r.rollback)
    assert rep.unknown == [NAME] and not rep.ok and "UNKNOWN" in r.error
    assert r.rollback["restored"] is False
    assert not confdiff.equivalent(box.text(), BEFORE, VRP)  # the report is right: it was not restored
    if commit == "locked":
        assert "locked by other user" in r.rollback["apply_error"] and r.rollback["reverse_committed"] is False


def test_restore_commits_and_a_refused_line_commits_nothing():
    box = Box()
    s = VrpSession(Target(NAME, "huawei_vrp", "198.18.5.1"), Credentials("u", None, "test"), conn=Channel(box))
    s.restore(["interface GigabitEthernet0/0/1", "undo ospf cost 10", "ospf cost 30", "quit"])
    assert box.log[-2:] == [ROLLBACK_COMMIT, "return"] and " ospf cost 30" in box.text()
    box2 = Box(refuse=frozenset({"ospf cost 30"}))
    s2 = VrpSession(Target(NAME, "huawei_vrp", "198.18.5.1"), Credentials("u", None, "test"), conn=Channel(box2))
    with pytest.raises(DeviceError, match="Unrecognized command"):
        s2.restore(["interface GigabitEthernet0/0/1", "undo ospf cost 10", "ospf cost 30", "quit"])
    assert ROLLBACK_COMMIT not in box2.log and confdiff.equivalent(box2.text(), BEFORE, VRP)
