"""Policy pack entry point: serves egovops.stacks.policies through pulumi_policy."""

from egovops.stacks.policypack import serve

serve()
