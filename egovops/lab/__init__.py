"""The lab: the province on one machine, from real daemons (netns + veth, FRR + sshd, nspawn hosts).

Public API (other capabilities and tests use only these):
``lab_state(province) -> LabState | None``, ``ns_of(province, device) -> str``,
``secrets_dir(province) -> Path``, ``lab_up(province, counties=False, limit=None, progress=...)``,
``lab_down(province)``, ``status(province)`` (lab_state plus SSH probes). See egovops/lab/README.md.
"""

from egovops.lab.lifecycle import DeviceState, LabState, UpResult, lab_down, lab_state, lab_up, ns_of, status
from egovops.lab.paths import secrets_dir
from egovops.lab.sh import LabError, LabInputError

__all__ = ["DeviceState", "LabState", "UpResult", "LabError", "LabInputError", "lab_down", "lab_state", "lab_up", "ns_of",
           "secrets_dir", "status"]
