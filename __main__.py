"""The dataops-platform Pulumi program: load the stack's config once, wire the components.

Cloud stacks (dev, test, prod) get the lake (owned or consumed), the notebook image, a cluster
and team namespaces; `sandbox-<name>` stacks get a namespace, a notebook server, a read-only
role and scratch storage on their host stack's cluster; the `local` stack gets the same lake
and image on Docker alone.
"""

import pulumi

from components.ci_runner import CiRunner, CiRunnerArgs
from components.cluster.base import Cluster
from components.cluster.eks import EksCluster, EksClusterArgs
from components.cluster.existing import ExistingCluster, ExistingClusterArgs
from components.cluster.host import HostCluster, HostClusterArgs
from components.config import StackConfig, TeamConfig, load_stack_config
from components.container_image import ContainerImage, ContainerImageArgs
from components.dask_gateway import DaskGateway, DaskGatewayArgs
from components.data_access import DataAccess, DataAccessArgs
from components.data_lake import GovernedDataLake, GovernedDataLakeArgs
from components.lake_access import LakeRef
from components.local_endpoint import UNSUPPORTED, LocalLakeEndpoint, LocalLakeEndpointArgs
from components.local_notebook import LocalNotebook, LocalNotebookArgs
from components.network import NAME as NETWORK
from components.network import Network, NetworkArgs, existing_vpc, moved_from_the_cluster
from components.notebook_service import NotebookService, NotebookServiceArgs
from components.sandbox_notebook import SandboxNotebook, SandboxNotebookArgs
from components.team_namespace import TeamNamespace, TeamNamespaceArgs


def consumed_lake(config: StackConfig) -> LakeRef:
    owner_stack = config.owner_stack_name(pulumi.get_organization())
    owner = pulumi.StackReference("lake-owner", stack_name=owner_stack)
    return LakeRef.from_stack_output(owner.get_output("lake"), owner_stack, config.region)


def cluster_for(config: StackConfig) -> Cluster:
    """An existing cluster, or an EKS cluster in the stack's own VPC or an existing VPC's
    subnets, with the in-VPC runner that deploys it."""
    if config.cluster.mode == "existing":
        return ExistingCluster("cluster", ExistingClusterArgs.from_config(config))
    existing = config.cluster.network.existing
    if existing is not None:
        vpc = existing_vpc(existing)
    else:
        vpc = Network(NETWORK, NetworkArgs.from_config(config), opts=moved_from_the_cluster()).ref
    cluster = EksCluster("cluster", EksClusterArgs.from_config(config), vpc)
    if config.runs_runner:
        runner = CiRunner("ci-runner", CiRunnerArgs.from_config(config), vpc, cluster.api_security_group)
        pulumi.export("runner", runner.exported())
    return cluster


def cloud(config: StackConfig) -> None:
    if config.lake.role == "owner":
        lake = GovernedDataLake("lake", GovernedDataLakeArgs.from_config(config))
        lake_ref = lake.ref
        pulumi.export("lake", lake.exported())
    else:
        lake_ref = consumed_lake(config)

    image = ContainerImage("notebook-image", ContainerImageArgs.from_config(config))
    cluster = cluster_for(config)
    access = DataAccess("access", DataAccessArgs.from_config(config, lake_ref, cluster.identity))
    # The hub's namespace is set up like a team's: its user servers run there.
    teams = {
        team.name: TeamNamespace(
            f"team-{team.name}",
            TeamNamespaceArgs.from_config(config, team, cluster.identity, access.role),
            provider=cluster.provider,
        )
        for team in config.workload_teams()
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
        if config.runs_dask_gateway:
            DaskGateway(
                "dask",
                DaskGatewayArgs.from_config(config, image.ref, cluster.api_server_cidrs),
                provider=cluster.provider,
                environment=access.environment(),
                after=[notebooks.release],
            )
    pulumi.export("access", access.exported())
    pulumi.export("image", image.exported())
    pulumi.export("cluster", cluster.exported())


def sandbox(config: StackConfig) -> None:
    # The host's cluster and image, and the owner's lake, are read, never created.
    host = pulumi.StackReference("sandbox-host", stack_name=config.host_stack_name(pulumi.get_organization()))
    namespace = config.stack
    cluster = HostCluster("cluster", HostClusterArgs.from_config(config, host.get_output("cluster")))
    access = DataAccess("access", DataAccessArgs.from_config(config, consumed_lake(config), cluster.identity))
    team = TeamNamespace(
        f"team-{namespace}",
        TeamNamespaceArgs.from_config(config, TeamConfig(name=namespace), cluster.identity, access.role),
        provider=cluster.provider,
    )
    notebook = SandboxNotebook(
        "notebook",
        SandboxNotebookArgs.from_config(config, namespace, config.expiry_annotations()),
        provider=cluster.provider,
        image_ref=host.get_output("image")["ref"],
        environment=access.environment(),
        opts=pulumi.ResourceOptions(depends_on=[team]),
    )
    pulumi.export(
        "sandbox",
        {
            "owner": config.owner,
            "createdAt": config.expiry_tags()["created-at"],
            "expiresAt": config.expiry_tags()["expires-at"],
            "hostStack": config.host_stack,
            "namespace": namespace,
            "connect": f"kubectl -n {namespace} port-forward svc/notebook 8888",
        },
    )
    pulumi.export("notebookToken", notebook.token)
    pulumi.export("access", access.exported())


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
{"local": local, "sandbox": sandbox}.get(config.environment, cloud)(config)
pulumi.export("environment", config.environment)
