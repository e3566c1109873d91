"""CiRunner: the GitHub Actions runner that deploys a stack, inside that stack's VPC.

Every cluster's API endpoint is private, so a job on a GitHub-hosted runner cannot reach it.
Each eks stack therefore runs its own runner: an AWS CodeBuild project that GitHub Actions uses
as a self-hosted runner (CodeBuild user guide, "Self-hosted GitHub Actions runners in AWS
CodeBuild", https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner-overview.html).
A workflow job asks for it with
`runs-on: codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`; CodeBuild starts a
build in the stack's private subnets for that one job and stops when it ends, so the runner
costs nothing while idle. The cluster's API security group admits 443 from this runner only.

Authority stays with the workflow roles (`ci.deployRole` ...), which jobs assume through GitHub's
OIDC provider: this project's own role can only write its logs, attach to the VPC and read the
GitHub connection, because every job on the runner can use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.cluster.eks import API_PORT
from components.config import StackConfig
from components.network import VpcRef
from components.workload_identity import service_trust

TYPE = "dataops:index:CiRunner"
# Ubuntu 22.04 with Docker: actions/setup-python installs its prebuilt Pythons on Ubuntu only
# (https://docs.aws.amazon.com/codebuild/latest/userguide/ec2-compute-images.html).
IMAGE = "aws/codebuild/standard:7.0"


def project_name(cfg: StackConfig) -> str:
    """The CodeBuild project, and so the `runs-on` label of every job that deploys this stack."""
    return cfg.physical_name("runner")


def runs_on_label(project: str) -> str:
    """The label a workflow job uses to run on this runner (one build per job and attempt)."""
    return f"codebuild-{project}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


@dataclass
class CiRunnerArgs:
    project_name: str
    repository: str
    """owner/name of the GitHub repository whose jobs the runner takes."""
    connection_arn: str
    """The CodeConnections connection to GitHub (one per account, authorised in the console)."""
    compute_type: str
    allowed_actor_ids: list[int]
    """GitHub users whose workflow runs may start a build (the webhook's actor filter)."""
    privileged: bool
    """Docker builds (the stack that builds the notebook image): CodeBuild's privileged mode."""
    log_retention_days: int
    tags: dict[str, str]

    @staticmethod
    def from_config(cfg: StackConfig) -> CiRunnerArgs:
        assert cfg.ci.repository and cfg.ci.connection_arn  # guaranteed by config validation
        return CiRunnerArgs(
            project_name=project_name(cfg),
            repository=cfg.ci.repository,
            connection_arn=cfg.ci.connection_arn,
            compute_type=cfg.ci.runner.compute_type,
            allowed_actor_ids=list(cfg.ci.runner.allowed_actor_ids),
            privileged=cfg.image.digest is None,
            log_retention_days=cfg.log_retention_days,
            tags=cfg.mandatory_tags(),
        )


def runner_policy(
    partition: str, region: str, account: str, log_group_arn: str, subnet_ids: list[str], connection_arn: str
) -> dict[str, Any]:
    """The project's own permissions: the documented VPC policy (CodeBuild user guide, "Allow
    CodeBuild access to AWS services required to create a VPC network interface",
    https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html),
    its log group, and the GitHub connection (CodeBuild user guide, "GitHub App connections",
    https://docs.aws.amazon.com/codebuild/latest/userguide/connections-github-app.html)."""
    service = connection_arn.split(":")[2]  # codeconnections, or codestar-connections for older ARNs
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Logs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
            {
                # Describe actions have no resource-level permissions; the ENI actions are the
                # documented minimum for a build attached to a VPC.
                "Sid": "VpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                ],
                "Resource": "*",
            },
            {
                "Sid": "VpcNetworkInterfacePermission",
                "Effect": "Allow",
                "Action": "ec2:CreateNetworkInterfacePermission",
                "Resource": f"arn:{partition}:ec2:{region}:{account}:network-interface/*",
                "Condition": {
                    "StringEquals": {
                        "ec2:Subnet": [
                            f"arn:{partition}:ec2:{region}:{account}:subnet/{s}" for s in subnet_ids
                        ],
                        "ec2:AuthorizedService": "codebuild.amazonaws.com",
                    }
                },
            },
            {
                # GetConnection and GetConnectionToken are the documented pair; CreateProject also
                # checks UseConnection with the service role (aws/aws-cdk#38504).
                "Sid": "GitHubConnection",
                "Effect": "Allow",
                "Action": [
                    f"{service}:GetConnection",
                    f"{service}:GetConnectionToken",
                    f"{service}:UseConnection",
                ],
                "Resource": connection_arn,
            },
        ],
    }


class CiRunner(pulumi.ComponentResource):
    project: aws.codebuild.Project
    """The CodeBuild project serving as the GitHub Actions runner."""
    security_group: aws.ec2.SecurityGroup
    """The runner's security group: the one source the cluster API admits."""
    label: str
    """The `runs-on` label of jobs that deploy this stack."""

    def __init__(
        self,
        name: str,
        args: CiRunnerArgs,
        vpc: VpcRef,
        api_security_group: aws.ec2.SecurityGroup,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=vpc.vpc_id,
            description=f"GitHub Actions runner {args.project_name}",
            tags={**args.tags, "Name": args.project_name},
            opts=child,
        )
        # HTTPS out only: GitHub, the Pulumi backend, package registries and the AWS APIs (the
        # VPC's DNS resolver is not filtered by security groups). The provider removes the
        # default allow-all egress of a security group it creates.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-https-out",
            security_group_id=self.security_group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to GitHub, the Pulumi backend, registries and AWS APIs",
            tags=args.tags,
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-to-cluster-api",
            security_group_id=api_security_group.id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=API_PORT,
            to_port=API_PORT,
            description=f"Kubernetes API from the runner {args.project_name}",
            tags=args.tags,
            opts=child,
        )

        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/codebuild/{args.project_name}",
            retention_in_days=args.log_retention_days,
            tags=args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.project_name}-codebuild",
            description=f"CodeBuild service role of the runner {args.project_name} (no deploy rights)",
            assume_role_policy=json.dumps(service_trust("codebuild.amazonaws.com")),
            tags=args.tags,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            name="runner",
            policy=pulumi.Output.all(
                partition, region, account, logs.arn, pulumi.Output.all(*vpc.private_subnet_ids)
            ).apply(
                lambda v: json.dumps(runner_policy(v[0], v[1], v[2], v[3], list(v[4]), args.connection_arn))
            ),
            opts=child,
        )
        self.project = aws.codebuild.Project(
            f"{name}-project",
            name=args.project_name,
            description=f"GitHub Actions runner for {args.repository}, inside the stack's VPC",
            service_role=role.arn,
            source={
                "type": "GITHUB",
                "location": f"https://github.com/{args.repository}",
                "auth": {"type": "CODECONNECTIONS", "resource": args.connection_arn},
            },
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "compute_type": args.compute_type,
                "image": IMAGE,
                "privileged_mode": args.privileged,
            },
            vpc_config={
                "vpc_id": vpc.vpc_id,
                "subnets": vpc.private_subnet_ids,
                "security_group_ids": [self.security_group.id],
            },
            logs_config={"cloudwatch_logs": {"group_name": logs.name, "status": "ENABLED"}},
            build_timeout=120,
            tags=args.tags,
            # CreateProject checks the connection with the service role: its policy must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        # A workflow file is the pull request's own: a fork can name this runner in `runs-on`, so
        # the workflows' `if:` guards cannot keep it out. The webhook starts builds only for runs
        # of the listed GitHub users (CodeBuild user guide, "Best practices for using webhooks":
        # filter by ACTOR_ACCOUNT_ID, https://docs.aws.amazon.com/codebuild/latest/userguide/webhooks.html).
        actors = "|".join(str(i) for i in sorted(args.allowed_actor_ids))
        aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_groups=[
                {
                    "filters": [
                        {"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"},
                        {"type": "ACTOR_ACCOUNT_ID", "pattern": f"^({actors})$"},
                    ]
                }
            ],
            opts=child,
        )
        self.label = runs_on_label(args.project_name)
        self.register_outputs({"project": self.project.name, "label": self.label})

    def exported(self) -> pulumi.Output[dict]:
        """The `runner` stack output."""
        return pulumi.Output.all(project=self.project.name, runsOn=self.label)
