"""Device sessions: one class per vendor over netmiko, behind one small interface the push engine uses.

Why an interface of our own: the engine's safety logic (rollback point, diff, apply, verify,
confirm or restore) is the same for every vendor; only how to read the config, how to apply a
command list, how to make it permanent and how to undo it differ. FRR has no candidate config or
confirmed commit, so for FRR the engine itself keeps the rollback point and restores it by
applying the reverse diff; Huawei VRP8 has ``commit trial <s>`` / ``commit`` / ``abort trial``, so
its session uses them (the device also rolls back on its own if we vanish).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from egovops.network import confdiff
from egovops.network.credentials import Credentials

log = logging.getLogger(__name__)

# netmiko's driver per vendor (cisco_ios speaks to FRR's vtysh over SSH: see LAB_NOTES)
NETMIKO_TYPES = {"frr": "cisco_ios", "huawei_vrp": "huawei_vrpv8"}
FRR_ERROR = re.compile(r"^%|^(Unknown command|Command incomplete|Ambiguous command|Can't |"
                       r"Must remove|There is no|Invalid |.*% Unknown)", re.M)
VRP_ERROR = re.compile(r"^Error:|\^\s*$", re.M)
ROLLBACK_COMMIT = "commit description egovops reverse diff"   # shown in VRP's commit list
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x07\x08]")


class DeviceError(RuntimeError):
    """A device refused a command or the session broke (message names the device)."""


@dataclass
class Target:
    """Where and how to reach one router (built from its intent and the credentials)."""

    name: str
    vendor: str
    host: str
    port: int = 22
    timeout: float = 30.0
    ports: dict[str, str] = field(default_factory=dict)   # VRP: intent interface -> port name
    known_hosts: str | None = None   # host keys to verify against (None: the operator's ~/.ssh/known_hosts)


class Session(Protocol):
    target: Target

    def running_config(self) -> str: ...
    def apply(self, commands: list[str]) -> str: ...
    def stage(self, confirm_timeout: float) -> None: ...
    def confirm(self) -> None: ...
    def abort(self) -> bool: ...
    def restore(self, commands: list[str]) -> None: ...
    def save(self) -> None: ...
    def protocol_state(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class NetmikoSession:
    """Shared netmiko plumbing (connect, send, close)."""

    dialect: confdiff.Dialect

    def __init__(self, target: Target, creds: Credentials, conn: Any = None) -> None:
        self.target = target
        if conn is not None:             # an open channel (tests drive a recorded VRP transcript)
            self.conn = conn
            return
        params = dict(device_type=NETMIKO_TYPES[target.vendor], host=target.host, port=target.port,
                      username=creds.username, password=creds.password.reveal(),
                      conn_timeout=min(target.timeout, 15), auth_timeout=min(target.timeout, 15),
                      banner_timeout=min(target.timeout, 15), timeout=target.timeout,
                      session_timeout=target.timeout, fast_cli=True, allow_agent=False)
        if creds.key_file:
            params.update(use_keys=True, key_file=creds.key_file)
        # host keys verified, never auto-added: an unknown or changed key refuses this device by name
        params.update(ssh_strict=True, system_host_keys=target.known_hosts is None,
                      alt_host_keys=target.known_hosts is not None, alt_key_file=target.known_hosts or "")
        try:
            self.conn = _verified_class(NETMIKO_TYPES[target.vendor])(**params)
        except Exception as exc:
            text = str(exc)
            if "known_hosts" in text or "does not match" in text or "BadHostKey" in type(exc).__name__:
                raise DeviceError(f"{target.name}: host key of {target.host} not verified ("
                                  f"{'changed' if 'does not match' in text else 'unknown'}; known_hosts "
                                  f"{target.known_hosts or '~/.ssh/known_hosts'}): refused") from None
            raise DeviceError(f"{target.name}: cannot connect to {target.host}:{target.port}: "
                              f"{type(exc).__name__}: {_first_line(exc)}") from None

    def _cmd(self, command: str, read_timeout: float | None = None) -> str:
        try:
            return str(self.conn.send_command(command, read_timeout=read_timeout or self.target.timeout))
        except Exception as exc:
            raise DeviceError(f"{self.target.name}: {command!r} failed: {type(exc).__name__}: {_first_line(exc)}") from None

    def close(self) -> None:
        try:
            self.conn.disconnect()
        except Exception:
            pass


class FrrSession(NetmikoSession):
    """FRR via vtysh (netmiko ``cisco_ios``). Changes are live at once; the engine keeps the rollback point."""

    dialect = confdiff.FRR
    _prompt: str | None = None
    STATE_COMMANDS = ("show ip ospf neighbor json", "show ipv6 ospf6 neighbor json", "show bfd peers json",
                      "show bgp summary json")

    def _exec_prompt(self) -> str:
        """The full exec prompt, read once per session (netmiko's base_prompt is cut to 16 characters).

        The lab's vtysh driver learns it at login (:func:`_vtysh_preparation`); otherwise netmiko's
        ``find_prompt`` (which waits for the channel to be quiet) finds it."""
        if self._prompt is None:
            self._prompt = getattr(self.conn, "vtysh_prompt", None)
        if self._prompt is None:
            try:
                self._prompt = self.conn.find_prompt().strip()
            except Exception as exc:
                raise DeviceError(f"{self.target.name}: no prompt: {type(exc).__name__}: {_first_line(exc)}") from None
        return self._prompt

    def batch(self, commands: list[str] | tuple[str, ...]) -> dict[str, str]:
        """Several show commands in one write, answers split at the exec prompt: one round trip.

        Why: under load every round trip (vtysh → daemons → sshd → controller) waits for CPU; a device's
        cycle needs ~10 commands, so batching them is most of a push's wall time. vtysh reads typed-ahead
        lines one by one and prints ``<prompt><command>`` before each answer, so the answers are exact.
        """
        prompt = self._exec_prompt()

        def complete(buf: str) -> tuple[list[str], list[int]] | None:
            # the whole buffer (up to ~200 kB: running config + interface table) is parsed only when
            # it ends at the prompt — not on every poll (16 workers re-parsing it every 10 ms was CPU)
            if _last_line(buf[-512:]) != prompt:
                return None
            lines = ANSI.sub("", buf).replace("\r", "").split("\n")
            # what the session left before our first command (a blank line, a stale prompt) is skipped
            first = next((i for i, line in enumerate(lines)
                          if " ".join(_unprompt(line, prompt).split()) == commands[0]), None)
            if first is None:
                return None
            lines = lines[first:]
            marks = [i for i, line in enumerate(lines) if i and line.startswith(prompt)]
            return (lines, marks) if len(marks) >= len(commands) and lines[-1].strip() == prompt else None

        try:
            self.conn.write_channel("".join(c + "\n" for c in commands))
            lines, marks = _read_until(self.conn, complete, self.target.timeout,
                                       f"no complete answer to {len(commands)} command(s)")
        except DeviceError:
            raise
        except Exception as exc:
            raise DeviceError(f"{self.target.name}: {list(commands)!r} failed: {type(exc).__name__}: "
                              f"{_first_line(exc)}") from None
        starts = [0] + marks
        answers: dict[str, str] = {}
        for n, c in enumerate(commands):
            seg = lines[starts[n]:starts[n + 1]]
            echo = _unprompt(seg[0], prompt)
            if " ".join(echo.split()) != c:
                raise DeviceError(f"{self.target.name}: answer out of step: expected the echo of {c!r}, "
                                  f"got {echo.strip()[:80]!r}")
            answers[c] = "\n".join(seg[1:]).strip("\n") + "\n"
        return answers

    def running_config(self) -> str:
        a = self.batch(["show running-config", "show interface json"])
        try:
            return frr_effective_config(a["show running-config"], a["show interface json"])
        except DeviceError as exc:
            raise DeviceError(f"{self.target.name}: {exc}") from None

    def snapshot(self) -> tuple[str, dict[str, Any]]:
        """Running config and protocol state in ONE round trip (the push reads both before a change).

        Why: under load each round trip waits for CPU on both ends; the rollback point and the
        adjacencies before the change are read together (fail closed like :meth:`protocol_state`).
        """
        a = self.batch(["show running-config", "show interface json", *self.STATE_COMMANDS])
        try:
            config = frr_effective_config(a["show running-config"], a["show interface json"])
            return config, frr_state(lambda c: a[c] if c in a else self.batch([c])[c])
        except DeviceError as exc:
            msg = str(exc)
            raise DeviceError(msg if msg.startswith(f"{self.target.name}:") else f"{self.target.name}: {msg}") from None

    def apply(self, commands: list[str]) -> str:
        """Send the whole command list in one write and read until vtysh is back at its exec prompt.

        netmiko's ``send_config_set`` waits for 2 s of silence per call; vtysh reads typed-ahead lines one
        by one, so one write plus "end" and a wait for ``<host>#`` is exact and about ten times faster.
        """
        if not commands:
            return ""
        try:
            prompt = self._exec_prompt()
            self.conn.write_channel("configure terminal\n" + "\n".join(commands) + "\nend\n")
            out: str = self.conn.read_until_pattern(pattern=r"(?:^|\n)" + re.escape(prompt) + r"\s*$",
                                               read_timeout=self.target.timeout)
        except Exception as exc:
            raise DeviceError(f"{self.target.name}: applying {len(commands)} command(s) failed: "
                              f"{type(exc).__name__}: {_first_line(exc)}") from None
        errors = [ln.strip() for ln in out.splitlines() if FRR_ERROR.search(ln.strip()) and "does not exist" not in ln]
        if errors:
            raise DeviceError(f"{self.target.name}: the device refused: {'; '.join(errors[:3])}")
        return out

    def stage(self, confirm_timeout: float) -> None:
        """FRR applies at once: nothing to stage (the engine's timer guards the confirm window)."""

    def confirm(self) -> None:
        self.save()

    def abort(self) -> bool:
        return False      # no device-side trial: the engine restores the rollback point itself

    def restore(self, commands: list[str]) -> None:
        """Apply the reverse diff; FRR makes it live at once (nothing saved: the change was never saved)."""
        self.apply(commands)

    def save(self) -> None:
        # one write and a read up to the prompt (netmiko's send_command polls with delays: ~0.5 s a device)
        out = self.batch(["write memory"])["write memory"]
        if "[OK]" not in out and "Configuration saved" not in out and "Integrated configuration saved" not in out:
            raise DeviceError(f"{self.target.name}: write memory did not confirm: {_first_line(out)}")

    def protocol_state(self) -> dict[str, Any]:
        try:
            answers = self.batch(self.STATE_COMMANDS)
            return frr_state(lambda c: answers[c] if c in answers else self.batch([c])[c])
        except DeviceError as exc:
            msg = str(exc)
            raise DeviceError(msg if msg.startswith(f"{self.target.name}:") else f"{self.target.name}: {msg}") from None


class VrpSession(NetmikoSession):
    """Huawei VRP8 (netmiko ``huawei_vrpv8``): two-stage commit with ``commit trial``."""

    dialect = confdiff.VRP

    def running_config(self) -> str:
        return self._cmd("display current-configuration")

    def apply(self, commands: list[str]) -> str:
        try:
            out: str = self.conn.send_config_set(commands, cmd_verify=False, exit_config_mode=False,
                                            read_timeout=self.target.timeout)
        except Exception as exc:
            raise DeviceError(f"{self.target.name}: applying failed: {type(exc).__name__}: {_first_line(exc)}") from None
        if VRP_ERROR.search(out):
            self.conn.send_command_timing("clear configuration candidate")
            raise DeviceError(f"{self.target.name}: the device refused: {_vrp_error(out)}")
        return out

    @property
    def persist_id(self) -> str:
        # a named trial can be confirmed or aborted from a later session (the engine reconnects)
        return f"egovops-{self.target.name}"

    def _timed(self, command: str) -> str:
        try:
            return str(self.conn.send_command_timing(command, read_timeout=self.target.timeout))
        except Exception as exc:
            raise DeviceError(f"{self.target.name}: {command!r} failed: {type(exc).__name__}: {_first_line(exc)}") from None

    def stage(self, confirm_timeout: float) -> None:
        # the device itself reverts if no confirm arrives (e.g. this controller dies mid-push)
        out = self._timed(f"commit trial {max(60, int(confirm_timeout))} persist {self.persist_id}")
        if VRP_ERROR.search(out) or "trial configuration mode" not in out:
            raise DeviceError(f"{self.target.name}: commit trial not acknowledged: {_vrp_error(out)}")

    def confirm(self) -> None:
        self.conn.config_mode()
        out = self._timed(f"commit persist {self.persist_id}")
        if VRP_ERROR.search(out):
            raise DeviceError(f"{self.target.name}: commit (confirm) failed: {_vrp_error(out)}")
        self.conn.exit_config_mode()
        self.save()

    def abort(self) -> bool:
        """Abort the named trial; False (the engine then restores by reverse diff) unless VRP confirms."""
        self.conn.config_mode()
        out = self._timed(f"abort trial persist {self.persist_id}")
        self.conn.exit_config_mode()
        if VRP_ERROR.search(out):
            log.warning("%s: abort trial refused: %s", self.target.name, _vrp_error(out))
            return False
        return True

    def restore(self, commands: list[str]) -> None:
        """Apply the reverse diff to the candidate and COMMIT it (the fallback when the abort failed).

        Why a commit: on VRP8 (two-stage) ``apply`` only fills the candidate; without ``commit`` the
        reverse diff never reaches the running config and is discarded with the session. A refused
        line or a refused commit clears the candidate and raises (the engine then reads the running
        config back and reports the device ``unknown`` unless it equals the rollback point). Not saved:
        the change was never confirmed, so the saved configuration is still the rollback point.
        """
        if not commands:
            return
        self.apply(commands)                  # raises (candidate cleared) on a refused line
        out = self._timed(ROLLBACK_COMMIT)
        if VRP_ERROR.search(out) or "fail" in out.lower():
            self.conn.send_command_timing("clear configuration candidate")
            raise DeviceError(f"{self.target.name}: commit of the reverse diff refused: {_vrp_error(out)}")
        self.conn.exit_config_mode()

    def save(self) -> None:
        out = self.conn.save_config()
        if VRP_ERROR.search(str(out)):
            raise DeviceError(f"{self.target.name}: save failed: {_vrp_error(str(out))}")

    def protocol_state(self) -> dict[str, Any]:
        """OSPF/OSPFv3/BFD/BGP from ``display`` tables (TextFSM); an unparsable answer raises."""
        from egovops.network.vrp_state import StateParseError, vrp_state

        try:
            return vrp_state(self._cmd, self.target.ports)
        except StateParseError as exc:
            raise DeviceError(f"{self.target.name}: protocol state not readable: {exc}") from None


def frr_effective_config(running: str, interfaces_json: str) -> str:
    """``show running-config`` plus the interface addresses zebra reports from the kernel.

    Why: on Linux an address may be owned by the OS (the lab's fabric puts them there before any
    push). FRR's running config omits such addresses, yet ``no ip address`` on them deletes them
    from the kernel. Reading the effective addressing makes the first push add nothing that is
    already there, and makes a rollback never strip an address FRR did not put there.
    """
    try:
        data = json.loads(interfaces_json)
    except (json.JSONDecodeError, TypeError):
        # fail closed: without the kernel's addresses the diff would strip or re-add what FRR did not put there
        raise DeviceError(f"interface addresses not readable: 'show interface json' answered "
                          f"{_first_line(interfaces_json)[:120]!r} (not JSON)") from None
    if not isinstance(data, dict):
        raise DeviceError("interface addresses not readable: 'show interface json' is not a JSON object")
    extra: dict[str, list[str]] = {}
    for ifname, info in data.items():
        for a in (info or {}).get("ipAddresses") or []:
            addr = str(a.get("address", ""))
            if not addr or addr.startswith(("fe80:", "127.", "::1/")):
                continue
            extra.setdefault(ifname, []).append(("ipv6 address " if ":" in addr else "ip address ") + addr)
    if not extra:
        return running
    out: list[str] = []
    lines = running.splitlines()
    seen: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = re.match(r"^interface (\S+)\s*$", line)
        if m and m.group(1) in extra:
            name = m.group(1)
            seen.add(name)
            body: list[str] = []
            i += 1
            while i < len(lines) and (lines[i].startswith(" ") or lines[i].strip() == "!") and lines[i].strip() != "exit":
                body.append(lines[i])
                i += 1
            have = {b.strip() for b in body}
            out += [f" {x}" for x in extra[name] if x not in have] + body
            continue
        i += 1
    tail = [f"interface {n}\n" + "".join(f" {x}\n" for x in extra[n]) + "exit" for n in sorted(extra) if n not in seen]
    if tail:
        end = len(out)
        while end and out[end - 1].strip() in ("end", "!", ""):
            end -= 1
        out = out[:end] + ["!"] + "\n!\n".join(tail).splitlines() + out[end:]
    return "\n".join(out) + "\n"


_HOST_KEYS: dict[tuple[str, float, int], Any] = {}
_HOST_KEYS_LOCK = threading.Lock()
_CLASSES: dict[str, type] = {}


def known_host_keys(path: str) -> Any:
    """The parsed known_hosts file, parsed once per version of the file (path, mtime, size).

    Why: paramiko's ``load_host_keys`` re-checks every line against every earlier one (quadratic):
    on the 142-host lab file it cost ~0.35 s of pure-Python CPU per login, under the GIL, so 123
    parallel logins queued behind it (a fleet push's connect median rose from 1.8 s to 20 s with
    48 workers). The keys and the trust are the same; only the parsing is shared.
    """
    import paramiko

    st = os.stat(path)
    key = (path, st.st_mtime, st.st_size)
    with _HOST_KEYS_LOCK:
        if key not in _HOST_KEYS:
            _HOST_KEYS.clear()
            _HOST_KEYS[key] = paramiko.HostKeys(path)
        return _HOST_KEYS[key]


VTYSH_PREP = "terminal length 0"


def _vtysh_preparation(self: Any, force_data: bool = True) -> None:
    """Session preparation for FRR's vtysh in ONE round trip (replaces netmiko's for ``cisco_ios``).

    Why: netmiko's (a RETURN and 0.1 s sleep, ``terminal width``, ``terminal length``, then
    ``find_prompt``, each waiting for the channel to go quiet) cost ~0.5 s of waiting per login:
    a worker slot held idle, 123 times in a fleet push. vtysh reads typed-ahead lines one by one
    and echoes each after its prompt, so paging is turned off with one write, and the exec prompt
    is the line that echoed it. Bounded by the session's timeout; any failure closes the session.
    """
    def echoed(buf: str) -> str | None:
        # the exec prompt is the last line once a line before it reads "<that prompt> terminal length 0"
        lines = ANSI.sub("", buf).replace("\r", "").split("\n")
        last = lines[-1].strip()
        if re.fullmatch(r"\S+#", last) and any(" ".join(ln.split()) == f"{last} {VTYSH_PREP}" for ln in lines[:-1]):
            return last
        return None

    try:
        self.write_channel(VTYSH_PREP + self.RETURN)
        last = _read_until(self, echoed, float(self.timeout), f"no vtysh prompt after {VTYSH_PREP!r}",
                           detail=lambda buf: f"last line {_last_line(buf)[-60:]!r}")
        self.vtysh_prompt = last                 # the full prompt (FrrSession._exec_prompt)
        self.base_prompt = last[:-1]             # as netmiko's set_base_prompt (send_command's default pattern)
    except Exception:
        self.disconnect()
        raise


def _vtysh_cleanup(self: Any, command: str = "exit") -> None:
    """Leave vtysh with one ``exit`` (netmiko's cleanup first probes config mode, waiting for quiet).

    The engine always ends a configuration with ``end``; closing the channel ends vtysh anyway."""
    self.write_channel(command + self.RETURN)


# netmiko methods replaced per device type: cisco_ios is only ever FRR's vtysh here (NETMIKO_TYPES)
_FAST_METHODS: dict[str, dict[str, Any]] = {
    "cisco_ios": {"_try_session_preparation": _vtysh_preparation, "cleanup": _vtysh_cleanup},
}


def _verified_class(device_type: str) -> type:
    """netmiko's driver class, whose SSH client gets only this host's known keys (RejectPolicy kept)."""
    with _HOST_KEYS_LOCK:
        if device_type in _CLASSES:
            return _CLASSES[device_type]
    import paramiko
    from netmiko.ssh_dispatcher import CLASS_MAPPER  # imported here: rendering/diff never need netmiko

    base = CLASS_MAPPER[device_type]

    def _build_ssh_client(self: Any) -> paramiko.SSHClient:
        client: paramiko.SSHClient = self._get_ssh_client_instance()
        files = ([self.alt_key_file] if self.alt_host_keys else []) + \
            ([os.path.expanduser("~/.ssh/known_hosts")] if self.system_host_keys else [])
        mine = client.get_host_keys()
        for f in files:
            if not os.path.isfile(f):
                continue
            known = known_host_keys(f)
            for name in (self.host, f"[{self.host}]:{self.port}"):
                for ktype, k in (known.lookup(name) or {}).items():
                    mine.add(name, ktype, k)
        client.set_missing_host_key_policy(self.key_policy)   # RejectPolicy: ssh_strict is always set
        return client

    cls = type(f"Verified{base.__name__}", (base,),
               {"_build_ssh_client": _build_ssh_client, **_FAST_METHODS.get(device_type, {})})
    with _HOST_KEYS_LOCK:
        _CLASSES[device_type] = cls
    return cls


_T = TypeVar("_T")


def _read_until(conn: Any, parse: Callable[[str], _T | None], timeout: float, what: str,
                detail: Callable[[str], str] = lambda buf: f"{len(buf)} characters read") -> _T:
    """Poll ``conn.read_channel()`` until ``parse(everything read so far)`` is not None; return that.

    Why one loop (the vtysh login and :meth:`FrrSession.batch` both wait for a prompt this way):
    ``parse`` runs only after a read that brought text (nothing new cannot complete an answer),
    the 10 ms sleep comes only after a read that brought nothing (an answer arriving in pieces is
    read without pauses), and the wait is bounded: after ``timeout`` seconds a :class:`TimeoutError`
    says ``"<what> within <timeout>s (<detail(buffer)>)"``.
    """
    buf = ""
    deadline = time.monotonic() + timeout
    while True:
        chunk = conn.read_channel()
        buf += chunk
        if chunk:
            done = parse(buf)
            if done is not None:
                return done
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:g}s ({detail(buf)})")
        if not chunk:
            time.sleep(0.01)


def _last_line(text: str) -> str:
    """The last line of channel text without terminal escapes, carriage returns and outer blanks."""
    return ANSI.sub("", text).replace("\r", "").split("\n")[-1].strip()


def _unprompt(line: str, prompt: str) -> str:
    return line[len(prompt):] if line.startswith(prompt) else line


def _json_of(command: str, text: str, kind: type) -> Any:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise DeviceError(f"protocol state not readable: {command!r} answered "
                          f"{_first_line(text)[:120]!r} (not JSON)") from None
    if not isinstance(data, kind):
        raise DeviceError(f"protocol state not readable: {command!r} answered a JSON "
                          f"{type(data).__name__}, expected {kind.__name__}")
    return data


def frr_state(cmd: Callable[[str], str]) -> dict[str, Any]:
    """Up adjacencies of an FRR router: OSPF/OSPFv3 neighbours Full, BFD peers up, BGP Established.

    Fail closed: an answer that is not JSON of the expected shape (a daemon not running, a vtysh
    error, a truncated read) raises :class:`DeviceError` — an unread state is never "no adjacencies".
    """
    def js(command: str, kind: type = dict) -> Any:
        return _json_of(command, cmd(command), kind)

    ospf, ospf6, bfd, bgp = set(), set(), set(), set()
    for nbr, entries in (js("show ip ospf neighbor json").get("neighbors") or {}).items():
        for e in entries if isinstance(entries, list) else [entries]:
            if str(e.get("state", e.get("nbrState", ""))).startswith("Full"):
                ospf.add(f"{nbr}@{e.get('ifaceName', '').split(':')[0]}")
    # FRR 8.4 answers nothing at all (not even "{}") when no OSPFv3 instance exists: accept that only
    # when the text command says so positively
    ospf6_text = cmd("show ipv6 ospf6 neighbor json")
    if ospf6_text.strip():
        ospf6_data = _json_of("show ipv6 ospf6 neighbor json", ospf6_text, dict)
    elif "OSPFv3 instance not found" in cmd("show ipv6 ospf6 neighbor"):
        ospf6_data = {}
    else:
        raise DeviceError("protocol state not readable: 'show ipv6 ospf6 neighbor json' answered '' (not JSON)")
    for e in ospf6_data.get("neighbors") or []:
        if e.get("state") == "Full":
            ospf6.add(f"{e.get('neighborId')}@{e.get('interfaceName')}")
    for p in js("show bfd peers json", list):
        if p.get("status") == "up":
            # v6 sessions run between link-local addresses, which change when a link is re-made:
            # key BFD sessions by address family and interface
            bfd.add(f"{'ipv6' if ':' in str(p.get('peer')) else 'ipv4'}@{p.get('interface', '')}")
    summ = js("show bgp summary json")
    for af in ("ipv4Unicast", "ipv6Unicast"):
        for peer, info in ((summ.get(af) or {}).get("peers") or {}).items():
            if info.get("state") == "Established":
                bgp.add(peer)
    return {"ospf": ospf, "ospf6": ospf6, "bfd": bfd, "bgp": bgp, "parsed": True}


def _vrp_error(out: str) -> str:
    """The ``Error: …`` line of a VRP answer (the ``^`` marker line alone says nothing)."""
    errs = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("Error")]
    return errs[0][:200] if errs else _first_line(out) or "no answer"


def _first_line(x: Any) -> str:
    s = str(x).strip().splitlines()
    return s[0][:200] if s else ""


SESSIONS: dict[str, type[FrrSession] | type[VrpSession]] = {"frr": FrrSession, "huawei_vrp": VrpSession}


def open_session(target: Target, creds: Credentials) -> Session:
    t0 = time.monotonic()
    s = SESSIONS[target.vendor](target, creds)
    log.debug("%s: connected in %.2fs", target.name, time.monotonic() - t0)
    return s
