"""The apply side of the hosts: run Ansible playbooks (the level-3 baseline and any other) on the
inventory's hosts. The checks that prove the result live in :mod:`egovops.compliance` (check side),
which may import from here; nothing here imports the compliance package.
"""

from egovops.harden.playbook import HostRecap, PlaybookInputError, PlaybookRun, run_playbook
from egovops.harden.targets import Selection, Target, select

__all__ = ["HostRecap", "PlaybookInputError", "PlaybookRun", "Selection", "Target", "run_playbook", "select"]
