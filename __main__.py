"""The dataops-platform Pulumi program: load the stack's config once, wire the components."""

import pulumi

from components.cluster import Cluster, ClusterArgs
from components.config import load_stack_config
from components.container_image import ContainerImage, ContainerImageArgs
from components.data_access import DataAccess, DataAccessArgs
from components.data_lake import GovernedDataLake, GovernedDataLakeArgs
from components.lake_access import LakeRef
from components.team_namespace import TeamNamespace, TeamNamespaceArgs

config = load_stack_config()

if config.lake.role == "owner":
    lake = GovernedDataLake("lake", GovernedDataLakeArgs.from_config(config))
    lake_ref = lake.ref
    pulumi.export("lake", lake.exported())
else:
    owner_stack = config.owner_stack_name(pulumi.get_organization())
    owner = pulumi.StackReference("lake-owner", stack_name=owner_stack)
    lake_ref = LakeRef.from_stack_output(owner.require_output("lake"), owner_stack, config.region)

image = ContainerImage("notebook-image", ContainerImageArgs.from_config(config))
cluster = Cluster("cluster", ClusterArgs.from_config(config))
access = DataAccess("access", DataAccessArgs.from_config(config, lake_ref, cluster.identity))
for team in config.teams:
    TeamNamespace(
        f"team-{team.name}",
        TeamNamespaceArgs.from_config(config, team, cluster.identity, access.role),
        provider=cluster.provider,
    )

pulumi.export("environment", config.environment)
pulumi.export("access", access.exported())
pulumi.export("image", image.exported())
pulumi.export("cluster", cluster.exported())
