"""The dataops-platform Pulumi program: load the stack's config once, wire the components."""

import pulumi

from components.config import load_stack_config
from components.data_access import DataAccess, DataAccessArgs
from components.data_lake import GovernedDataLake, GovernedDataLakeArgs
from components.lake_access import LakeRef

config = load_stack_config()

if config.lake.role == "owner":
    lake = GovernedDataLake("lake", GovernedDataLakeArgs.from_config(config))
    lake_ref = lake.ref
    pulumi.export("lake", lake.exported())
else:
    owner_stack = config.owner_stack_name(pulumi.get_organization())
    owner = pulumi.StackReference("lake-owner", stack_name=owner_stack)
    lake_ref = LakeRef.from_stack_output(owner.require_output("lake"), owner_stack, config.region)

access = DataAccess("access", DataAccessArgs.from_config(config, lake_ref))
pulumi.export("access", access.exported())
pulumi.export("environment", config.environment)
