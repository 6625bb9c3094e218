"""The production path: ``pulumi preview --diff`` / ``pulumi up`` through Pulumi's Automation API.

The state backend lives on the province's S3-compatible object store: the bucket is created and
versioned with boto3 before Pulumi logs in to it. The Automation API drives the real Pulumi CLI;
where the CLI is missing this module stops with one sentence saying what to install — it never
falls back to the mock runtime and never reports a deployment that did not happen.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlparse

from egovops.stacks import PROJECT_DIR, s3
from egovops.stacks.config import to_pulumi_config

INSTALL_HINT = ("The Pulumi CLI is not installed: install it from https://www.pulumi.com/docs/install/ "
                "(e.g. `curl -fsSL https://get.pulumi.com | sh`) and put `pulumi` on PATH; "
                "`egovops stacks preview` works offline without it.")


class PrerequisiteMissing(Exception):
    """Something the production path needs is absent; the message says what to install or set."""


def pulumi_cli() -> str | None:
    """Path of the Pulumi CLI, or None (PATH, then the installer's default ~/.pulumi/bin)."""
    found = shutil.which("pulumi")
    if found:
        return found
    home = Path(os.environ.get("PULUMI_HOME", Path.home() / ".pulumi")) / "bin" / "pulumi"
    return str(home) if home.is_file() and os.access(home, os.X_OK) else None


@dataclass
class Backend:
    """Where Pulumi keeps state: a bucket on the province's S3-compatible store."""

    endpoint: str
    bucket: str = "egovops-pulumi-state"
    region: str = s3.DEFAULT_REGION

    def url(self) -> str:
        """The ``s3://`` backend URL Pulumi understands for S3-compatible stores."""
        host = urlparse(self.endpoint)
        q = {"endpoint": host.netloc or self.endpoint, "s3ForcePathStyle": "true", "region": self.region}
        if host.scheme == "http":
            q["disableSSL"] = "true"
        return f"s3://{self.bucket}?{urlencode(q)}"

    def ensure(self) -> dict[str, Any]:
        """Create the state bucket if needed, versioned (state history) and encrypted where supported."""
        return s3.ensure_bucket(s3.client(self.endpoint, self.region), s3.BucketSpec(self.bucket))


def check_prerequisites(backend: Backend | None) -> str:
    """The CLI path, or :class:`PrerequisiteMissing` naming the first thing missing."""
    cli = pulumi_cli()
    if cli is None:
        raise PrerequisiteMissing(INSTALL_HINT)
    if backend is None:
        raise PrerequisiteMissing("No state backend given: pass --backend-endpoint (or set EGOVOPS_STATE_ENDPOINT) "
                                  "to the province's S3-compatible store.")
    if not os.environ.get("PULUMI_CONFIG_PASSPHRASE") and not os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE") \
            and not os.environ.get("EGOVOPS_SECRETS_PROVIDER"):
        raise PrerequisiteMissing("No secrets provider: set PULUMI_CONFIG_PASSPHRASE(_FILE) or "
                                  "EGOVOPS_SECRETS_PROVIDER (e.g. a KMS URL) before running Pulumi.")
    return cli


def run(action: Literal["diff", "up"], stack: str, rendered_config: dict[str, Any], backend: Backend,
        on_output: Callable[[str], None] = print, policy_pack: Path = PROJECT_DIR / "policy") -> dict[str, Any]:
    """Preview with diff (``diff``) or deploy (``up``) one stack, policy pack enforced.

    The stack config is set from the rendered inventory on every run, so the state never drifts
    from the inventory through hand edits.
    """
    cli = check_prerequisites(backend)
    from pulumi import automation as auto

    backend.ensure()
    env = {"PULUMI_BACKEND_URL": backend.url()}
    cmd = auto.PulumiCommand(root=str(Path(cli).parent.parent))
    opts = auto.LocalWorkspaceOptions(work_dir=str(PROJECT_DIR), env_vars=env, pulumi_command=cmd,
                                      secrets_provider=os.environ.get("EGOVOPS_SECRETS_PROVIDER"))
    st = auto.create_or_select_stack(stack_name=stack, work_dir=str(PROJECT_DIR), opts=opts)
    st.set_all_config({k: auto.ConfigValue(value=v) for k, v in to_pulumi_config(rendered_config).items()})
    packs = [str(policy_pack)]
    if action == "diff":
        res = st.preview(diff=True, policy_packs=packs, on_output=on_output)
        return {"stack": stack, "action": action, "changes": dict(res.change_summary)}
    up = st.up(policy_packs=packs, on_output=on_output)
    return {"stack": stack, "action": action, "result": up.summary.result,
            "changes": dict(up.summary.resource_changes or {})}
