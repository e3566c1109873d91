"""The fake cloud behind the offline plan: what AWS would compute for each resource we declare.

Every answer is derived from the resource type and its logical name (and the inputs), so the
same program and config always give the same plan, and two stacks differ only where they do.
A resource type or function the fake cloud does not know is an error, not an empty answer:
add it here when the program starts using it.
"""

# size: one `Mocks` class whose body is a table of answers, one short entry per resource type
# and function; it reads top to bottom like the provider's reference.

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

ACCOUNT_ID = "111122223333"  # the example account id of the AWS documentation
EMULATOR_ACCOUNT_ID = "123456789012"  # the account moto answers as
PARTITION = "aws"
CREATED = "2026-01-01T00:00:00Z"


OFFLINE_ACCOUNT = Path(__file__).with_name("offline_account.yaml")


class UnknownToFakeCloud(Exception):
    pass


# The canonical hosted zone of application load balancers per region ("Elastic Load Balancing
# endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/elb.html).
ALB_ZONES = {"eu-west-1": "Z32O12XQLNTSW2", "us-east-1": "Z35SXDOTRQ7X7K", "eu-central-1": "Z215JYRZR1TBD5"}


def offline_account(path: Path = OFFLINE_ACCOUNT) -> dict[str, Any]:
    """The roles and zones the offline account holds (see offline_account.yaml)."""
    from dataops.stack_files import parse_yaml

    return parse_yaml(path.read_text(encoding="utf-8")) or {}


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def role_name(logical_name: str, inputs: dict[str, Any]) -> str:
    """The physical name of a role: its `name` input, or what AWS would generate (a suffix)."""
    return inputs.get("name") or f"{logical_name}-{_digest('aws:iam/role:Role', logical_name)[:7]}"


class FakeCloud(Mocks):
    def __init__(self, stack: str, region: str, stack_outputs: dict[str, dict[str, Any]] | None = None):
        self.stack = stack
        self.region = region
        self.stack_outputs = stack_outputs or {}
        self._emulators: set[str] = set()
        account = offline_account()
        self._roles = {arn.rsplit("/", 1)[-1]: arn for arn in account.get("roles") or []}
        self._zones = {str(z).rstrip(".") for z in account.get("hostedZones") or []}
        self._vpcs = {
            vpc: str(network.get("cidr", "")) for vpc, network in (account.get("vpcs") or {}).items()
        }
        self._subnets = {
            subnet: {**spec, "vpcId": vpc}
            for vpc, network in (account.get("vpcs") or {}).items()
            for subnet, spec in (network.get("subnets") or {}).items()
        }
        self.refusals: list[tuple[str, str]] = []
        """(kind, name) of what the cloud refused (a role or zone that does not exist, ...), for
        the plan's error lines."""
        self._resources: dict[str, Callable[[MockResourceArgs, str], dict[str, Any]]] = {
            "aws:s3/bucket:Bucket": self._bucket,
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/alias:Alias": self._kms_alias,
            "aws:iam/role:Role": self._iam_role,
            "aws:iam/rolePolicy:RolePolicy": self._role_policy,
            "aws:glue/catalogDatabase:CatalogDatabase": self._glue_database,
            "aws:glue/catalogTable:CatalogTable": lambda a, u: {
                "id": f"{ACCOUNT_ID}:{a.inputs['databaseName']}:{a.inputs['name']}",
                "catalogId": ACCOUNT_ID,
                "arn": self._arn("glue", f"table/{a.inputs['databaseName']}/{a.inputs['name']}"),
            },
            "aws:glue/dataQualityRuleset:DataQualityRuleset": lambda a, u: {
                "id": a.inputs["name"],
                "arn": self._arn("glue", f"dataQualityRuleset/{a.inputs['name']}"),
                "createdOn": CREATED,
                "lastModifiedOn": CREATED,
            },
            "pulumi:pulumi:StackReference": self._stack_reference,
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment": lambda a, u: {
                "id": f"{a.inputs['role']}-{u[:20]}"
            },
            "aws:cloudwatch/logGroup:LogGroup": lambda a, u: {
                "id": a.inputs["name"],
                "arn": self._arn("logs", f"log-group:{a.inputs['name']}"),
            },
            "aws:ec2/vpc:Vpc": lambda a, u: {
                "id": f"vpc-{u[:17]}",
                "arn": self._arn("ec2", f"vpc/vpc-{u[:17]}"),
                "defaultSecurityGroupId": f"sg-{u[1:18]}",
                "mainRouteTableId": f"rtb-{u[2:19]}",
            },
            "aws:ec2/launchTemplate:LaunchTemplate": lambda a, u: {
                "id": f"lt-{u[:17]}",
                "arn": self._arn("ec2", f"launch-template/lt-{u[:17]}"),
                "latestVersion": 1,
                "defaultVersion": 1,
            },
            "aws:eks/cluster:Cluster": self._eks_cluster,
            "aws:eks/accessEntry:AccessEntry": lambda a, u: {
                "id": f"{a.inputs['clusterName']}:{a.inputs['principalArn']}",
                "accessEntryArn": self._arn("eks", f"access-entry/{a.inputs['clusterName']}/{u[:8]}"),
            },
            "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": lambda a, u: {
                "id": f"{a.inputs['clusterName']}#{a.inputs['principalArn']}#{a.inputs['policyArn']}"
            },
            "aws:eks/nodeGroup:NodeGroup": lambda a, u: {
                "id": f"{a.inputs['clusterName']}:{a.inputs['nodeGroupName']}",
                "status": "ACTIVE",
                "arn": self._arn(
                    "eks", f"nodegroup/{a.inputs['clusterName']}/{a.inputs['nodeGroupName']}/{u[:8]}"
                ),
                # EKS names the group's Auto Scaling group eks-<group>-<uuid>.
                "resources": [
                    {
                        "autoscalingGroups": [
                            {"name": f"eks-{a.inputs['nodeGroupName']}-{uuid.UUID(hex=u + u)}"}
                        ],
                        "remoteAccessSecurityGroupId": "",
                    }
                ],
            },
            "aws:autoscaling/tag:Tag": lambda a, u: {
                "id": f"{a.inputs['autoscalingGroupName']},{a.inputs['tag']['key']}"
            },
            "aws:acm/certificate:Certificate": self._certificate,
            "aws:acm/certificateValidation:CertificateValidation": lambda a, u: {
                "id": a.inputs["certificateArn"],
            },
            "aws:route53/record:Record": lambda a, u: {
                "id": f"{a.inputs['zoneId']}_{a.inputs['name']}_{a.inputs['type']}",
                "fqdn": str(a.inputs["name"]).rstrip("."),
            },
            "aws:eks/addon:Addon": lambda a, u: {
                "id": f"{a.inputs['clusterName']}:{a.inputs['addonName']}",
                "addonVersion": "v1.0.0-eksbuild.1",
                "arn": self._arn("eks", f"addon/{a.inputs['clusterName']}/{a.inputs['addonName']}/{u[:8]}"),
            },
            "aws:eks/podIdentityAssociation:PodIdentityAssociation": lambda a, u: {
                "id": f"a-{u[:17]}",
                "associationId": f"a-{u[:17]}",
                "associationArn": self._arn(
                    "eks", f"podidentityassociation/{a.inputs['clusterName']}/a-{u[:17]}"
                ),
            },
            "aws:ecr/repository:Repository": lambda a, u: {
                "id": a.inputs["name"],
                "registryId": ACCOUNT_ID,
                "arn": self._arn("ecr", f"repository/{a.inputs['name']}"),
                "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{a.inputs['name']}",
            },
            "aws:ecr/lifecyclePolicy:LifecyclePolicy": lambda a, u: {
                "id": a.inputs["repository"],
                "registryId": ACCOUNT_ID,
            },
            "docker:index/image:Image": self._docker_image,
            "pulumi:providers:kubernetes": lambda a, u: {"id": str(uuid.UUID(hex=u + u))},
            "pulumi:providers:aws": self._aws_provider,
            "random:index/randomPassword:RandomPassword": lambda a, u: {
                "id": "none",
                "result": hashlib.sha256(u.encode()).hexdigest()[: int(a.inputs.get("length", 16))],
                "bcryptHash": "offline",
            },
            "docker:index/network:Network": lambda a, u: {"id": u + u[:32], "driver": "bridge"},
            "docker:index/volume:Volume": lambda a, u: {
                "id": a.inputs.get("name", u),
                "mountpoint": f"/var/lib/docker/volumes/{a.inputs.get('name', u)}/_data",
            },
            "docker:index/remoteImage:RemoteImage": lambda a, u: {
                "id": f"sha256:{u}{u}{u}{u}"[:71] + a.inputs["name"],
                "imageId": f"sha256:{hashlib.sha256(a.inputs['name'].encode()).hexdigest()}",
                "repoDigest": a.inputs["name"],
            },
            "docker:index/container:Container": lambda a, u: {"id": (u * 4)[:64], "exitCode": None},
            "aws:ec2/securityGroup:SecurityGroup": lambda a, u: {
                "id": f"sg-{u[:17]}",
                "arn": self._arn("ec2", f"security-group/sg-{u[:17]}"),
                "ownerId": ACCOUNT_ID,
            },
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": lambda a, u: {
                "id": f"sgr-{u[:17]}",
                "securityGroupRuleId": f"sgr-{u[:17]}",
                "arn": self._arn("ec2", f"security-group-rule/sgr-{u[:17]}"),
            },
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": lambda a, u: {
                "id": f"sgr-{u[:17]}",
                "securityGroupRuleId": f"sgr-{u[:17]}",
                "arn": self._arn("ec2", f"security-group-rule/sgr-{u[:17]}"),
            },
            "aws:codebuild/project:Project": lambda a, u: {
                "id": a.inputs["name"],
                "arn": self._arn("codebuild", f"project/{a.inputs['name']}"),
                "badgeUrl": "",
            },
            "aws:codebuild/webhook:Webhook": lambda a, u: {
                "id": a.inputs["projectName"],
                "payloadUrl": f"https://codebuild.{self.region}.amazonaws.com/webhooks?t={u[:32]}",
                "url": f"https://api.github.com/repos/hooks/{int(u[:8], 16)}",
                "secret": "",
            },
        }
        # EC2 resources whose only computed value of interest is an id with the service's prefix.
        for kind, prefix in (
            ("subnet:Subnet", "subnet"),
            ("internetGateway:InternetGateway", "igw"),
            ("routeTable:RouteTable", "rtb"),
            ("routeTableAssociation:RouteTableAssociation", "rtbassoc"),
            ("eip:Eip", "eipalloc"),
            ("natGateway:NatGateway", "nat"),
            ("vpcEndpoint:VpcEndpoint", "vpce"),
            ("defaultSecurityGroup:DefaultSecurityGroup", "sg"),
        ):
            self._resources[f"aws:ec2/{kind}"] = lambda a, u, p=prefix: {"id": f"{p}-{u[:17]}"}
        # Settings attached to a bucket: their id is the bucket's name.
        for kind in (
            "bucketPublicAccessBlock:BucketPublicAccessBlock",
            "bucketOwnershipControls:BucketOwnershipControls",
            "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "bucketVersioning:BucketVersioning",
            "bucketLogging:BucketLogging",
            "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "bucketPolicy:BucketPolicy",
        ):
            self._resources[f"aws:s3/{kind}"] = self._bucket_setting

    # -- resources ---------------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.custom is False:
            return "", {}  # components have no cloud identity (reads pass custom=None)
        handler = self._resources.get(args.typ)
        if handler is None and args.typ.startswith("kubernetes:"):
            handler = self._kubernetes
        if handler is None:
            raise UnknownToFakeCloud(
                f"the offline fake cloud does not model {args.typ} ({args.name}); "
                "add it to dataops/fake_cloud.py"
            )
        # From type and logical name only: the same resource gets the same id in every stack, so
        # environment diffs show real differences rather than generated-id noise.
        uid = _digest(args.typ, args.name)
        state = {**args.inputs, **handler(args, uid)}
        if "tags" in args.inputs:
            state.setdefault("tagsAll", args.inputs["tags"])
        return str(state.pop("id")), state

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{ACCOUNT_ID}:{resource}"

    def _bucket(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs.get("bucket") or f"{args.name}-{uid[:8]}"
        return {
            "id": name,
            "bucket": name,
            "arn": f"arn:{PARTITION}:s3:::{name}",
            "bucketDomainName": f"{name}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            "region": self.region,
            "hostedZoneId": "Z1BKCTXD74EZPE",
            "forceDestroy": bool(args.inputs.get("forceDestroy", False)),
        }

    def _aws_provider(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        provider_id = str(uuid.UUID(hex=uid + uid))
        if args.inputs.get("endpoints"):
            # An emulator (the local stack's moto endpoint) answers as its own account.
            self._emulators.add(provider_id)
        return {"id": provider_id}

    def _eks_cluster(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        oidc = uid.upper()[:32]
        return {
            "id": name,
            "arn": self._arn("eks", f"cluster/{name}"),
            "status": "ACTIVE",
            "endpoint": f"https://{oidc}.gr7.{self.region}.eks.amazonaws.com",
            "certificateAuthority": {"data": base64.b64encode(f"offline CA of {name}".encode()).decode()},
            "identities": [
                {"oidcs": [{"issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/{oidc}"}]}
            ],
            "platformVersion": "eks.1",
            "clusterId": str(uuid.UUID(hex=uid + uid)),
            "vpcConfig": {
                **args.inputs.get("vpcConfig", {}),
                "clusterSecurityGroupId": f"sg-{uid[3:20]}",
                "vpcId": f"vpc-{uid[4:21]}",
            },
        }

    def _docker_image(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        # The digest a build would get: derived from the image name, whose tag is the context hash.
        name = args.inputs["imageName"]
        digest = hashlib.sha256(name.encode()).hexdigest()
        return {"id": f"{name}@sha256:{digest}", "repoDigest": f"{name.rsplit(':', 1)[0]}@sha256:{digest}"}

    def _kubernetes(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        meta = args.inputs.get("metadata") or {}
        name = meta.get("name") or f"{args.name}-{uid[:8]}"
        ns = meta.get("namespace")
        state: dict[str, Any] = {
            "id": f"{ns}/{name}" if ns else name,
            "metadata": {**meta, "name": name, "uid": str(uuid.UUID(hex=uid + uid))},
        }
        if args.typ == "kubernetes:networking.k8s.io/v1:Ingress":
            # The load balancer controller writes the address of the load balancer it made.
            internal = (meta.get("annotations") or {}).get(
                "alb.ingress.kubernetes.io/scheme"
            ) != "internet-facing"
            host = f"{'internal-' if internal else ''}k8s-{ns}-{name}-{uid[:10]}-{int(uid[10:16], 16)}"
            state["status"] = {
                "loadBalancer": {"ingress": [{"hostname": f"{host}.{self.region}.elb.amazonaws.com"}]}
            }
        return state

    def _certificate(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        domain = args.inputs["domainName"]
        token = hashlib.sha256(domain.encode()).hexdigest()[:32]
        return {
            "id": self._arn("acm", f"certificate/{uuid.UUID(hex=uid + uid)}"),
            "arn": self._arn("acm", f"certificate/{uuid.UUID(hex=uid + uid)}"),
            "status": "PENDING_VALIDATION",
            "domainValidationOptions": [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_{token}.{domain}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_{token[::-1]}.acm-validations.aws.",
                }
            ],
        }

    def _bucket_setting(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        return {"id": args.inputs.get("bucket", uid)}

    def _kms_key(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        key_id = str(uuid.UUID(hex=_digest(args.typ, args.name, length=32)))
        return {
            "id": key_id,
            "keyId": key_id,
            "arn": self._arn("kms", f"key/{key_id}"),
            "keyUsage": "ENCRYPT_DECRYPT",
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        }

    def _kms_alias(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        return {
            "id": name,
            "arn": self._arn("kms", name),
            "targetKeyArn": self._arn("kms", "key/" + str(args.inputs["targetKeyId"])),
        }

    def _iam_role(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = role_name(args.name, args.inputs)
        return {
            "id": name,
            "name": name,
            "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{name}",
            "uniqueId": "AROA" + uid.upper()[:17],
            "createDate": CREATED,
        }

    def _role_policy(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        return {"id": f"{args.inputs['role']}:{args.inputs['name']}"}

    def _glue_database(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        return {
            "id": f"{ACCOUNT_ID}:{name}",
            "catalogId": ACCOUNT_ID,
            "arn": self._arn("glue", f"database/{name}"),
        }

    def _stack_reference(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        if name not in self.stack_outputs:
            raise UnknownToFakeCloud(f"stack reference {name}: not a stack of this project's offline plans")
        return {"id": name, "name": name, "outputs": self.stack_outputs[name], "secretOutputNames": []}

    # -- functions ---------------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT_ID,
                "id": ACCOUNT_ID,
                "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
            },
            "aws:index/getPartition:getPartition": lambda: {
                "id": PARTITION,
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            },
            "aws:index/getAvailabilityZones:getAvailabilityZones": lambda: {
                "id": self.region,
                "names": [f"{self.region}{z}" for z in "abc"],
                "zoneIds": [f"euw1-az{i}" for i in (1, 2, 3)],
                "groupNames": [self.region] * 3,
            },
            "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda: {
                "id": self.region,
                "userName": "AWS",
                "password": "offline-registry-token",
                "authorizationToken": "offline",
                "expiresAt": CREATED,
                "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com",
            },
            "aws:index/getRegion:getRegion": lambda: {
                "id": self.region,
                "name": self.region,
                "region": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
            },
        }
        if args.token == "aws:iam/getRole:getRole":  # noqa: S105 - a function token
            return self._get_role(args.args["name"])
        if args.token == "aws:route53/getZone:getZone":  # noqa: S105 - a function token
            return self._get_zone(str(args.args.get("name", "")))
        if args.token == "aws:ec2/getSubnet:getSubnet":  # noqa: S105 - a function token
            return self._get_subnet(str(args.args.get("id", "")))
        if args.token == "aws:ec2/getVpc:getVpc":  # noqa: S105 - a function token
            return self._get_vpc(str(args.args.get("id", "")))
        if args.token == "aws:lb/getHostedZoneId:getHostedZoneId":  # noqa: S105 - a function token
            zone = ALB_ZONES.get(self.region)
            if zone is None:
                self.refusals.append(("region", self.region))
                return {}, [("region", f"no ALB hosted zone id for {self.region} in dataops/fake_cloud.py")]
            return {"id": zone, "loadBalancerType": "application", "region": self.region}, []
        account = EMULATOR_ACCOUNT_ID if args.provider.rsplit("::", 1)[-1] in self._emulators else ACCOUNT_ID
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":  # noqa: S105 - a function token
            return {
                "accountId": account,
                "id": account,
                "arn": f"arn:{PARTITION}:iam::{account}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
            }, []
        answer = answers.get(args.token)
        if answer is None:
            raise UnknownToFakeCloud(
                f"the offline fake cloud cannot answer {args.token}; add it to dataops/fake_cloud.py"
            )
        return answer(), []

    def _get_role(self, name: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """IAM GetRole by name: the role's real ARN (with its path), or a failure as the provider
        reports one, which fails the run before anything is created."""
        arn = self._roles.get(name)
        if arn is None:
            self.refusals.append(("role", name))
            return {}, [("name", f"reading IAM Role ({name}): couldn't find resource")]
        path = "/" + arn.split(":role/", 1)[1].rsplit("/", 1)[0] + "/" if arn.count("/") > 1 else "/"
        return {
            "id": name,
            "name": name,
            "arn": arn,
            "path": path,
            "uniqueId": "AROA" + _digest(arn).upper()[:17],
            "createDate": CREATED,
            "maxSessionDuration": 3600,
            "assumeRolePolicy": "{}",
            "tags": {},
            "description": "",
            "permissionsBoundary": "",
            "roleLastUseds": [],
        }, []

    def _get_subnet(self, subnet_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """EC2 DescribeSubnets by id: the offline account's existing VPCs."""
        spec = self._subnets.get(subnet_id)
        if spec is None:
            self.refusals.append(("subnet", subnet_id))
            return {}, [("id", f"no matching EC2 Subnet found ({subnet_id})")]
        return {
            "id": subnet_id,
            "vpcId": spec["vpcId"],
            "availabilityZone": spec["availabilityZone"],
            "availabilityZoneId": f"euw1-az{'abc'.index(spec['availabilityZone'][-1]) + 1}",
            "cidrBlock": spec["cidr"],
            "mapPublicIpOnLaunch": bool(spec.get("public")),
            "arn": f"arn:{PARTITION}:ec2:{self.region}:{ACCOUNT_ID}:subnet/{subnet_id}",
            "ownerId": ACCOUNT_ID,
            "state": "available",
            "tags": {},
        }, []

    def _get_vpc(self, vpc_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """EC2 DescribeVpcs by id: the offline account's existing VPCs."""
        if vpc_id not in self._vpcs:
            self.refusals.append(("vpc", vpc_id))
            return {}, [("id", f"no matching EC2 VPC found ({vpc_id})")]
        return {
            "id": vpc_id,
            "cidrBlock": self._vpcs[vpc_id],
            "arn": f"arn:{PARTITION}:ec2:{self.region}:{ACCOUNT_ID}:vpc/{vpc_id}",
            "ownerId": ACCOUNT_ID,
            "state": "available",
            "default": False,
            "tags": {},
        }, []

    def _get_zone(self, name: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Route 53 GetHostedZone by name: the offline account's public zones."""
        name = name.rstrip(".")
        if name not in self._zones:
            self.refusals.append(("zone", name))
            return {}, [("name", f"no matching Route 53 Hosted Zone found for {name}")]
        zone_id = "Z" + _digest("zone", name).upper()[:20]
        return {
            "id": zone_id,
            "zoneId": zone_id,
            "name": name,
            "privateZone": False,
            "arn": f"arn:{PARTITION}:route53:::hostedzone/{zone_id}",
            "nameServers": [f"ns-{i}.awsdns-{i}.org" for i in range(4)],
            "resourceRecordSetCount": 2,
            "comment": "",
            "callerReference": name,
            "tags": {},
            "primaryNameServer": "ns-0.awsdns-0.org",
            "linkedServiceDescription": "",
            "linkedServicePrincipal": "",
            "vpcId": "",
            "enableAcceleratedRecovery": False,
        }, []
