"""lab down stops the controller-side processes other capabilities recorded under the lab's folder
(egovops.lab.procs.stop_recorded): only those its PID files name *and* whose command line carries the
marker, so a recycled PID or a foreign process is never hit. No root needed: the processes are ours."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from egovops.lab import procs
from egovops.lab.paths import CONTROLLER_MARKER, CONTROLLER_STATE, controller_state_dir
from egovops.model import Province

pytestmark = pytest.mark.unit


def _sleeper(*extra: str) -> subprocess.Popen[bytes]:
    # ``-c`` ends the interpreter's options: what follows is argv, so "-m egovops.x" only shows in the
    # command line (as a real ``python -m egovops.monitor.exporter`` does)
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *extra])


def test_stop_recorded_stops_marked_processes_and_spares_the_rest(tmp_path: Path) -> None:
    ours = _sleeper("-m", "egovops.monitor.exporter")
    foreign = _sleeper("-m", "somebody.else")
    try:
        (tmp_path / "exporter.pid").write_text(f"{ours.pid}\n")
        (tmp_path / "other.pid").write_text(f"{foreign.pid}\n")
        (tmp_path / "stale.pid").write_text("999999999\n")
        deadline = time.monotonic() + 10  # the children must have exec'd before their cmdline is readable
        while CONTROLLER_MARKER not in procs.cmdline(ours.pid) and time.monotonic() < deadline:
            time.sleep(0.05)

        stopped = procs.stop_recorded(tmp_path, CONTROLLER_MARKER, grace=5.0)

        assert stopped == [ours.pid]
        assert ours.wait(timeout=10) is not None
        assert foreign.poll() is None, "a process without the marker was stopped"
        assert sorted(tmp_path.glob("*.pid")) == []
    finally:
        for p in (ours, foreign):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)


def test_stop_recorded_on_a_missing_folder_is_a_no_op(tmp_path: Path) -> None:
    assert procs.stop_recorded(tmp_path / "absent", CONTROLLER_MARKER) == []


def test_the_monitor_keeps_its_lab_state_where_lab_down_looks(lab_province: Province) -> None:
    from egovops.monitor.service import state_dir

    assert "monitor" in CONTROLLER_STATE
    assert state_dir(lab_province) == controller_state_dir(lab_province, "monitor")
    with pytest.raises(ValueError, match="not a controller-state folder"):
        controller_state_dir(lab_province, "elsewhere")
