"""Pulumi stacks for the 1+16+N cloud nodes and the platform services.

One Pulumi project (``stacks/``), one stack per node. The stack program is thin
(:mod:`egovops.stacks.program`) and calls three ComponentResources
(:mod:`egovops.stacks.components`). Everything the program deploys comes from the stack config
rendered from the inventory (:mod:`egovops.render.pulumi_config`).

Offline (no Pulumi CLI, no Kubernetes API on these machines) the programs run under Pulumi's mock
runtime (:mod:`egovops.stacks.mockrun`), charts are rendered by the Helm library
(:mod:`egovops.stacks.helm`), every object is validated against a pinned Kubernetes version's
OpenAPI schema (:mod:`egovops.stacks.schema`) and the 等保 policies are evaluated
(:mod:`egovops.stacks.policies`). The production path goes through Pulumi's Automation API
(:mod:`egovops.stacks.production`).
"""

from __future__ import annotations

from pathlib import Path

#: Repository root (egovops/stacks/__init__.py -> ../..).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The Pulumi project folder.
PROJECT_DIR = REPO_ROOT / "stacks"
#: Charts for the platform services.
CHARTS_DIR = REPO_ROOT / "charts"
#: The generic platform-service chart.
SERVICE_CHART = CHARTS_DIR / "egov-service"
#: Prometheus rule files the CloudNode wraps into PrometheusRule objects.
MONITORS_DIR = REPO_ROOT / "monitors" / "platform"
#: Kubernetes version whose OpenAPI schema every object is validated against (pinned).
KUBERNETES_VERSION = "1.33.0"
#: Pulumi project name (matches egovops.render.pulumi_config.PROJECT and stacks/Pulumi.yaml).
PROJECT = "egovops"
