"""The policy pack: `pulumi preview --policy-pack policies`.

Constructing PolicyPack starts the pack's server and blocks, so only this entry point does it;
the rules live in rules.py and their pulumi-policy wrappers in pack.py, where tests import them.
"""

from pack import policies  # the CLI runs this file with policies/ on sys.path
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="dataops-governance",
    description="Governance of the dataops-platform stacks: lake, cluster, notebooks, teardown.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
