"""The cluster's managed node groups: one system pool across the AZs, and the notebook pool (and,
with GPU profiles, the GPU pool) as one group per AZ, each able to scale from zero.

Every group runs on a launch template that enforces IMDSv2 with a hop limit of 1 (pods, one hop
further away, never reach the node's instance credentials) and an encrypted gp3 root volume.
A notebook or GPU group per AZ, because a user's home volume lives in one AZ and the autoscaler
cannot choose the AZ inside a group that spans several (see autoscaler.py).
The node-template tags on each group's Auto Scaling group tell the autoscaler, while the group
has no node, which labels and taints a new node would carry (Cluster Autoscaler AWS README,
"Auto-Discovery Setup": `k8s.io/cluster-autoscaler/node-template/label/<label>` and
`.../taint/<taint>`, https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import NodeGroupConfig

POOL_LABEL = "dataops.io/pool"
# The Zero to JupyterHub chart schedules user pods onto nodes labelled for users and tolerates
# this taint, so nothing else lands there.
USER_LABEL = {"hub.jupyter.org/node-purpose": "user"}
USER_TAINT = {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NO_SCHEDULE"}
NODE_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
TAINT_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}


@dataclass
class Pool:
    name: str
    spec: NodeGroupConfig
    ami_type: str = "AL2023_x86_64_STANDARD"
    per_zone: bool = False
    """One group per AZ (sizes apply to each), for pools whose pods keep a volume in one AZ."""
    labels: dict[str, str] | None = None
    taints: list[dict[str, str]] | None = None


def node_template_tags(pool: str, labels: dict[str, str], taints: list[dict[str, str]]) -> dict[str, str]:
    """The Auto Scaling group tags that describe a node of `pool` before one exists."""
    tags = {f"{NODE_TEMPLATE}/label/{k}": v for k, v in {POOL_LABEL: pool, **labels}.items()}
    tags |= {
        f"{NODE_TEMPLATE}/taint/{t['key']}": f"{t['value']}:{TAINT_EFFECTS[t['effect']]}" for t in taints
    }
    return tags


def node_groups(
    name: str,
    cluster: str,
    cluster_name: pulumi.Input[str],
    node_role_arn: pulumi.Input[str],
    subnet_ids: list[pulumi.Output[str]],
    pools: list[Pool],
    tags: dict[str, str],
    *,
    parent: pulumi.Resource,
    after: list[pulumi.Resource],
) -> list[aws.eks.NodeGroup]:
    """Create the pools' launch templates, groups and (for per-AZ pools) node-template tags."""
    child = pulumi.ResourceOptions(parent=parent)
    groups = []
    for pool in pools:
        spec, labels, taints = pool.spec, pool.labels or {}, pool.taints or []
        template = aws.ec2.LaunchTemplate(
            f"{name}-{pool.name}-template",
            description=f"{cluster} {pool.name} nodes: IMDSv2 only, hop limit 1, encrypted gp3 root volume",
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": spec.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=[{"resource_type": "instance", "tags": tags}],
            tags=tags,
            opts=child,
        )
        zones = (
            [(f"{pool.name}-{i}", [s]) for i, s in enumerate(subnet_ids)]
            if pool.per_zone
            else [(pool.name, subnet_ids)]
        )
        for group_name, subnets in zones:
            group = aws.eks.NodeGroup(
                f"{name}-{group_name}-nodes",
                cluster_name=cluster_name,
                node_group_name=group_name,
                node_role_arn=node_role_arn,
                subnet_ids=subnets,
                ami_type=pool.ami_type,
                instance_types=spec.instance_types,
                capacity_type=spec.capacity_type,
                scaling_config={
                    "min_size": spec.min_size,
                    "desired_size": spec.desired_size,
                    "max_size": spec.max_size,
                },
                launch_template={"id": template.id, "version": template.latest_version.apply(str)},
                labels={POOL_LABEL: pool.name, **labels},
                taints=taints or None,
                update_config={"max_unavailable": 1},
                tags=tags,
                opts=pulumi.ResourceOptions(
                    parent=parent,
                    depends_on=after,
                    # the autoscaler owns the size once running
                    ignore_changes=["scalingConfig.desiredSize"],
                ),
            )
            groups.append(group)
            if pool.per_zone:
                asg = group.resources[0].autoscaling_groups[0].name
                for i, (key, value) in enumerate(
                    sorted(node_template_tags(pool.name, labels, taints).items())
                ):
                    aws.autoscaling.Tag(
                        f"{name}-{group_name}-template-tag-{i}",
                        autoscaling_group_name=asg,
                        tag={"key": key, "value": value, "propagate_at_launch": False},
                        opts=child,
                    )
    return groups
