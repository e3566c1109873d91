"""The dataops-platform Pulumi program: load the stack's config once, wire the components.

Cloud stacks (dev, test, prod) get the lake (owned or consumed), the notebook image, a cluster
and team namespaces; the `local` stack gets the same lake and image on Docker alone.
"""

import pulumi

from components.cluster import Cluster, ClusterArgs
from components.config import StackConfig, load_stack_config
from components.container_image import ContainerImage, ContainerImageArgs
from components.data_access import DataAccess, DataAccessArgs
from components.data_lake import GovernedDataLake, GovernedDataLakeArgs
from components.lake_access import LakeRef
from components.local_endpoint import UNSUPPORTED, LocalLakeEndpoint, LocalLakeEndpointArgs
from components.local_notebook import LocalNotebook, LocalNotebookArgs
from components.notebook_service import NotebookService, NotebookServiceArgs
from components.team_namespace import TeamNamespace, TeamNamespaceArgs


def cloud(config: StackConfig) -> None:
    if config.lake.role == "owner":
        lake = GovernedDataLake("lake", GovernedDataLakeArgs.from_config(config))
        lake_ref = lake.ref
        pulumi.export("lake", lake.exported())
    else:
        owner_stack = config.owner_stack_name(pulumi.get_organization())
        owner = pulumi.StackReference("lake-owner", stack_name=owner_stack)
        lake_ref = LakeRef.from_stack_output(owner.get_output("lake"), owner_stack, config.region)

    image = ContainerImage("notebook-image", ContainerImageArgs.from_config(config))
    cluster = Cluster("cluster", ClusterArgs.from_config(config))
    access = DataAccess("access", DataAccessArgs.from_config(config, lake_ref, cluster.identity))
    # The hub's namespace is set up like a team's: its user servers run there.
    namespaces = [*config.teams, *([config.hub_team()] if config.notebooks.enabled else [])]
    teams = {
        team.name: TeamNamespace(
            f"team-{team.name}",
            TeamNamespaceArgs.from_config(config, team, cluster.identity, access.role),
            provider=cluster.provider,
        )
        for team in namespaces
    }
    if config.notebooks.enabled:
        notebooks = NotebookService(
            "notebooks",
            NotebookServiceArgs.from_config(config, image.ref, cluster.storage_class),
            provider=cluster.provider,
            environment=access.environment(),
            namespace=teams[config.hub_namespace].namespace,
            cluster_ready=cluster.ready,
        )
        pulumi.export("notebooks", notebooks.exported())
    pulumi.export("access", access.exported())
    pulumi.export("image", image.exported())
    pulumi.export("cluster", cluster.exported())


def local(config: StackConfig) -> None:
    endpoint = LocalLakeEndpoint("lake-endpoint", LocalLakeEndpointArgs.from_config(config))
    lake = GovernedDataLake(
        "lake",
        GovernedDataLakeArgs.from_config(config, unsupported=UNSUPPORTED),
        opts=pulumi.ResourceOptions(providers=[endpoint.aws_provider]),
    )
    notebook = LocalNotebook("notebook", LocalNotebookArgs.from_config(config), endpoint, lake.ref)
    pulumi.export("lake", lake.exported())
    pulumi.export("lakeEndpoint", endpoint.url)
    pulumi.export("notebookUrl", notebook.url)
    pulumi.export("image", notebook.image)


config = load_stack_config()
local(config) if config.environment == "local" else cloud(config)
pulumi.export("environment", config.environment)
