"""Huawei VRP: state parsed from recorded ``display`` transcripts (fail closed), and VrpSession's
commit trial / confirm / abort driven through a fake channel that answers in recorded VRP syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from egovops.network.credentials import Credentials
from egovops.network.device import DeviceError, FrrSession, Target, VrpSession, frr_state
from egovops.network.vrp_state import COMMANDS, StateParseError, full_port, parse, vrp_state

pytestmark = pytest.mark.unit

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "net" / "vrp_state"
PORTS = {"up-d": "GigabitEthernet0/0/1", "up-e": "GigabitEthernet0/0/2"}
RECORDED = {c: (FIX / (c.replace("display ", "display_").replace(" ", "_") + ".txt")).read_text()
            for c in COMMANDS.values()}


def test_recorded_transcripts_parse_into_frr_keys():
    st = vrp_state(RECORDED.__getitem__, PORTS)
    assert st["ospf"] == {"198.18.0.2@up-d"}                      # ExStart on up-e is not up
    assert st["ospf6"] == {"198.18.0.2@up-d", "198.18.0.3@up-e"}  # GE0/0/x mapped to the intent names
    assert st["bfd"] == {"ipv4@up-d", "ipv6@up-d"}                 # the Down session on up-e is not up
    assert st["bgp"] == {"198.18.80.1", "fd00:34:0:50::1"}         # Active is not up; v6 in the intent's spelling
    assert st["parsed"] is True


def test_unknown_port_never_matches_an_intent_interface():
    st = vrp_state(RECORDED.__getitem__, {"up-d": "GigabitEthernet0/0/9"})
    assert "198.18.0.2@up-d" not in st["ospf"] and "198.18.0.2@GigabitEthernet0/0/1" in st["ospf"]


@pytest.mark.parametrize("text", ["", "   \n", (FIX / "display_error.txt").read_text(),
                                  (FIX / "display_ospf_peer_unknown_format.txt").read_text()])
def test_unreadable_answers_raise_never_empty_state(text):
    with pytest.raises(StateParseError):
        parse("ospf", text)
    answers = {**RECORDED, "display ospf peer": text}
    with pytest.raises(StateParseError):
        vrp_state(answers.__getitem__, PORTS)


def test_full_port_names():
    assert full_port("GE0/0/1") == "GigabitEthernet0/0/1"
    assert full_port("GigabitEthernet0/0/1") == "GigabitEthernet0/0/1"
    assert full_port("XGE1/0/1") == "XGigabitEthernet1/0/1"


# ---------------------------------------------------------------- FRR: non-JSON state fails closed
GOOD_FRR = {"show ip ospf neighbor json": "{\"neighbors\": {}}", "show ipv6 ospf6 neighbor json": "{\"neighbors\": []}",
            "show bfd peers json": "[]", "show bgp summary json": "{}", "show ipv6 ospf6 neighbor": "% ospf6d is not running"}


def test_frr_without_an_ospfv3_instance_is_read_positively():
    """FRR 8.4 answers nothing to the JSON command without an OSPFv3 instance; the text command must say so."""
    ans = {**GOOD_FRR, "show ipv6 ospf6 neighbor json": "", "show ipv6 ospf6 neighbor": "% OSPFv3 instance not found"}
    assert frr_state(ans.__getitem__)["ospf6"] == set()


@pytest.mark.parametrize("command", sorted(c for c in GOOD_FRR if c.endswith(" json")))
@pytest.mark.parametrize("answer", ["% ospfd is not running", "", "{\"neighbors\": ", "42"])
def test_frr_state_not_json_is_an_error(command, answer):
    assert frr_state(GOOD_FRR.__getitem__)["ospf"] == set()      # the good answers do parse
    bad = {**GOOD_FRR, command: answer}
    with pytest.raises(DeviceError, match="not readable"):
        frr_state(bad.__getitem__)


# ---------------------------------------------------------------- VrpSession through a recorded channel
class FakeVrp:
    """A VRP8 CLI in two-stage mode, answering with the syntax and messages VRP prints."""

    def __init__(self, refuse: set[str] = frozenset(), state: dict[str, str] | None = None) -> None:
        self.log: list[str] = []
        self.running = ["sysname hefei-rt", "interface GigabitEthernet0/0/1", " ospf cost 10"]
        self.candidate: list[str] = []
        self.trial: dict | None = None
        self.saved = 0
        self.refuse = refuse
        self.state = state or RECORDED

    def config_mode(self):
        self.log.append("system-view")

    def exit_config_mode(self):
        self.log.append("return")

    def send_config_set(self, commands, cmd_verify=False, exit_config_mode=False, read_timeout=None):
        out = []
        for c in commands:
            self.log.append(c)
            if c in self.refuse:
                out.append(f"[*hefei-rt]{c}\n              ^\nError: Unrecognized command found at '^' position.")
            else:
                self.candidate.append(c)
                out.append(f"[*hefei-rt]{c}")
        return "\n".join(out)

    def send_command_timing(self, command, read_timeout=None):
        self.log.append(command)
        if command == "clear configuration candidate":
            self.candidate = []
            return "Warning: Uncommitted configurations will be discarded."
        if command.startswith("commit trial "):
            parts = command.split()
            seconds, pid = int(parts[2]), parts[4]
            if seconds < 60:
                return "Error: Wrong parameter found at '^' position."
            self.trial = {"id": pid, "before": list(self.running)}
            self.running += self.candidate
            self.candidate = []
            return ("Committing..done.\nInfo: The system enters the trial configuration mode. The system will revert "
                    f"to previous configuration if the trial configuration is not confirmed in {seconds} seconds.")
        if command.startswith("commit persist "):
            if not self.trial or self.trial["id"] != command.split()[2]:
                return "Error: The persist ID does not exist."
            self.trial = None
            return "Info: The trial configuration is confirmed."
        if command.startswith("abort trial persist "):
            if not self.trial or self.trial["id"] != command.split()[3]:
                return "Error: No trial configuration is running."
            self.running = self.trial["before"]
            self.trial = None
            return "Warning: The trial configuration will be rolled back. Continue? [Y/N]:y\nInfo: Succeeded in rolling back."
        raise AssertionError(f"unexpected command {command!r}")

    def send_command(self, command, read_timeout=None):
        self.log.append(command)
        if command == "display current-configuration":
            return "\n".join(self.running) + "\nreturn\n"
        return self.state[command]

    def save_config(self):
        self.log.append("save")
        self.saved += 1
        return "Info: Save the configuration successfully."

    def disconnect(self):
        pass


def session(fake: FakeVrp) -> VrpSession:
    return VrpSession(Target("hefei-rt", "huawei_vrp", "198.18.0.1", ports=PORTS), Credentials("u", None, "test"), conn=fake)


def test_commit_trial_then_confirm_persists_and_saves():
    fake = FakeVrp()
    s = session(fake)
    s.apply(["interface GigabitEthernet0/0/1", " ospf cost 20"])
    s.stage(120)
    assert fake.trial and " ospf cost 20" in fake.running
    assert "commit trial 120 persist egovops-hefei-rt" in fake.log
    s2 = session(fake)                               # the engine reconnects to confirm
    s2.confirm()
    assert fake.trial is None and fake.saved == 1 and " ospf cost 20" in fake.running
    assert "commit persist egovops-hefei-rt" in fake.log


def test_abort_on_timeout_restores_the_previous_running_config():
    fake = FakeVrp()
    before = list(fake.running)
    s = session(fake)
    s.apply(["interface GigabitEthernet0/0/1", " ospf cost 20"])
    s.stage(5)                                        # VRP's minimum trial is 60 s: the session asks for 60
    assert "commit trial 60 persist egovops-hefei-rt" in fake.log
    assert session(fake).abort() is True
    assert fake.running == before and fake.saved == 0


def test_abort_without_a_trial_reports_false_so_the_engine_restores_itself():
    assert session(FakeVrp()).abort() is False


def test_refused_command_clears_the_candidate_and_names_the_error():
    fake = FakeVrp(refuse={" ospf bogus 1"})
    with pytest.raises(DeviceError, match="Error: Unrecognized command"):
        session(fake).apply(["interface GigabitEthernet0/0/1", " ospf bogus 1"])
    assert fake.candidate == [] and "clear configuration candidate" in fake.log and fake.trial is None


def test_confirm_of_a_vanished_trial_is_an_error():
    with pytest.raises(DeviceError, match="persist ID does not exist"):
        session(FakeVrp()).confirm()


def test_protocol_state_reads_and_parses_all_six_tables():
    fake = FakeVrp()
    st = session(fake).protocol_state()
    assert st["ospf"] == {"198.18.0.2@up-d"}
    assert set(COMMANDS.values()) <= set(fake.log)


def test_protocol_state_parse_failure_is_a_device_error():
    fake = FakeVrp(state={**RECORDED, "display bgp peer": "Error: The BGP instance is not running."})
    with pytest.raises(DeviceError, match="hefei-rt: protocol state not readable"):
        session(fake).protocol_state()


class FakeVtysh:
    """vtysh over SSH as netmiko sees it: typed-ahead lines answered one by one after the prompt."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.pending, self.writes = answers, "", 0

    def find_prompt(self):
        return "hefei-rt#"

    def write_channel(self, data: str):
        self.writes += 1
        cmds = [c for c in data.split("\n") if c]
        out = ""
        for i, c in enumerate(cmds):
            out += ("hefei-rt# " if i else "") + c + "\r\n" + self.answers[c] + "\r\n"
        self.pending += out + "hefei-rt# "

    def stale(self):
        self.pending = "\r\nhefei-rt# \r\n" + self.pending    # what a session may leave behind

    def read_channel(self):
        chunk, self.pending = self.pending[:7], self.pending[7:]      # arrives in small pieces
        return chunk

    def send_command(self, command, read_timeout=None):
        return self.answers[command]


def frr(answers):
    return FrrSession(Target("hefei-rt", "frr", "198.18.0.1"), Credentials("u", None, "test"), conn=FakeVtysh(answers))


def test_frr_state_is_read_in_one_round_trip_and_split_exactly():
    s = frr({**GOOD_FRR, "show bgp summary json": '{"ipv4Unicast": {"peers": {"198.18.64.0": {"state": "Established"}}}}'})
    st = s.protocol_state()
    assert st["bgp"] == {"198.18.64.0"} and st["ospf"] == set() and s.conn.writes == 1
    s.conn.write_channel("")                              # nothing
    s.conn.pending = ""
    s.conn.stale()
    assert s.protocol_state()["bgp"] == {"198.18.64.0"}


def test_frr_session_names_the_device_on_unreadable_state():
    s = frr({**GOOD_FRR, "show bfd peers json": "% Unknown command: show bfd peers json"})
    with pytest.raises(DeviceError, match="^hefei-rt: protocol state not readable"):
        s.protocol_state()


# engine + VrpSession, a failed abort (reverse diff committed and proven, else unknown): test_net_vrp_rollback.py
