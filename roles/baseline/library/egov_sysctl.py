#!/usr/bin/python3
"""Apply many kernel parameters at once: persist them in one sysctl.d file and set live values.

Why a module: one remote run for all keys (instead of one per key), check mode and --diff, and an
honest answer in containers: kernel-wide keys (kernel.*, fs.*) are read-only inside a container;
they are reported in ``unsettable`` (never a silent pass) while per-namespace keys (net.*) are set.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleModule


def proc_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def read(key: str) -> str | None:
    try:
        with open(proc_path(key)) as f:
            return " ".join(f.read().split())
    except OSError:
        return None


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(settings=dict(type="dict", required=True), path=dict(type="path", required=True),
                           header=dict(type="str", default="")),
        supports_check_mode=True,
    )
    settings = {str(k): str(v) for k, v in module.params["settings"].items()}
    path = module.params["path"]
    content = module.params["header"] + "".join(f"{k} = {v}\n" for k, v in sorted(settings.items()))
    before = open(path).read() if os.path.exists(path) else ""
    changed = before != content
    if changed and not module.check_mode:
        with open(path + ".tmp", "w") as f:
            f.write(content)
        os.chmod(path + ".tmp", 0o644)
        os.replace(path + ".tmp", path)
    live_changes, unsettable, missing = {}, {}, []
    for key, want in sorted(settings.items()):
        have = read(key)
        if have is None:
            missing.append(key)
            continue
        if have == want:
            continue
        if not os.access(proc_path(key), os.W_OK):  # read-only here: same answer in --check and in a real run
            unsettable[key] = (f"is {have}, wanted {want}: read-only here (a kernel-wide key, or /proc/sys mounted "
                               f"read-only in a container; set it on the container host)")
            continue
        if module.check_mode:
            live_changes[key] = f"{have} -> {want}"
            continue
        try:
            with open(proc_path(key), "w") as f:
                f.write(want)
            live_changes[key] = f"{have} -> {want}"
        except OSError as exc:
            unsettable[key] = (f"is {have}, wanted {want}: {exc.strerror} (read-only here: a kernel-wide key, or "
                               f"/proc/sys mounted read-only in a container; set it on the container host)")
    result = dict(changed=changed or bool(live_changes), live_changes=live_changes, unsettable=unsettable,
                  missing=missing)
    if module._diff:
        result["diff"] = [dict(before=before, after=content, before_header=path, after_header=path),
                          dict(before="".join(f"{k} = {v.split(' -> ')[0]}\n" for k, v in live_changes.items()),
                               after="".join(f"{k} = {v.split(' -> ')[1]}\n" for k, v in live_changes.items()),
                               before_header="live /proc/sys", after_header="live /proc/sys")]
    if unsettable:
        module.warn("kernel parameters not settable here: " + "; ".join(f"{k} {v}" for k, v in unsettable.items()))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
