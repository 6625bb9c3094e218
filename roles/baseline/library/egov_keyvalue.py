#!/usr/bin/python3
"""Set several ``KEY<sep>VALUE`` settings of one configuration file in a single module run.

Why a module: ``lineinfile`` once per key costs one remote Python start per key and host; on 17
hosts and a 2-core controller that dominates the run time. This module edits one file for many
keys (first active occurrence replaced, later duplicates commented out, missing keys appended),
supports check mode and --diff, and is idempotent.
"""

from __future__ import annotations

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: egov_keyvalue
short_description: Set KEY VALUE pairs in a configuration file (login.defs, auditd.conf, ...)
options:
  path: {type: path, required: true}
  settings: {type: dict, required: true, description: key -> value}
  separator: {type: str, default: " ", description: "written between key and value, e.g. ' ', ' = '"}
  case_insensitive: {type: bool, default: false}
  mode: {type: str}
  create: {type: bool, default: false}
"""


def render(lines: list[str], settings: dict[str, str], sep: str, ci: bool) -> list[str]:
    out: list[str] = []
    done: set[str] = set()
    flags = re.IGNORECASE if ci else 0
    pats = {k: re.compile(r"^\s*" + re.escape(k) + r"(\s*=\s*|\s+)(.*?)\s*$", flags) for k in settings}
    for line in lines:
        for key, pat in pats.items():
            if pat.match(line):
                if key in done:
                    line = "# " + line  # a later duplicate would be ignored or win: neutralise it
                else:
                    line = f"{key}{sep}{settings[key]}"
                    done.add(key)
                break
        out.append(line)
    for key, value in settings.items():
        if key not in done:
            out.append(f"{key}{sep}{value}")
    return out


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            settings=dict(type="dict", required=True),
            separator=dict(type="str", default=" "),
            case_insensitive=dict(type="bool", default=False),
            mode=dict(type="str"),
            create=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p["path"]
    settings = {str(k): str(v) for k, v in p["settings"].items()}
    if not os.path.exists(path) and not p["create"]:
        module.fail_json(msg=f"{path} does not exist")
    before = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    after = "\n".join(render(before.splitlines(), settings, p["separator"], p["case_insensitive"])) + "\n"
    changed = after != before
    result = dict(changed=changed, path=path)
    if module._diff:
        result["diff"] = dict(before=before, after=after, before_header=path, after_header=path)
    if changed and not module.check_mode:
        d = os.path.dirname(path) or "."
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".egov-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(after)
        if os.path.exists(path):
            st = os.stat(path)
            os.chmod(tmp, st.st_mode & 0o7777)
            os.chown(tmp, st.st_uid, st.st_gid)
        os.replace(tmp, path)
    if p["mode"] and not module.check_mode:
        result["changed"] = module.set_mode_if_different(path, p["mode"], result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
