"""Stack program entry point: the Pulumi CLI runs this file; all logic lives in egovops.stacks."""

from egovops.stacks.program import program

program()
