"""Replacement rules of the pulumi-aws types the program declares (pulumi-aws 7 bridges
terraform-provider-aws 6). Each entry was read in the upstream resource's schema: `forces` are
its `ForceNew` / `RequiresReplace` attributes (and the `CustomizeDiff`/`ModifyPlan` code that
forces a replacement on a condition), written with the input names the Pulumi SDK gives them;
`source` links the file at the commit it was read at. Attributes the program never sets are
listed too, so that setting one later needs no new research.
"""

# size: one entry per AWS type the program declares, each with its source; split by service it
# would only scatter one table.

from __future__ import annotations

from dataops.replacements.model import Forces, Rules, Sides, tf_aws

_SG_RULE_SOURCES = ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")


def _source_kind_changes(s: Sides) -> bool:
    """A security group rule cannot change what kind of source it allows (ModifyPlan)."""
    return {k for k in _SG_RULE_SOURCES if s.a.get(k)} != {k for k in _SG_RULE_SOURCES if s.b.get(k)}


def _encryption_removed(s: Sides) -> bool:
    return bool(s.a.get("encryptionConfig")) and not s.b.get("encryptionConfig")


def _auto_mode_role_replaced(s: Sides) -> bool:
    before = (s.a.get("computeConfig") or {}).get("nodeRoleArn")
    return bool(before) and before != (s.b.get("computeConfig") or {}).get("nodeRoleArn")


def _not_interface(s: Sides) -> bool:
    return s.b.get("vpcEndpointType", "Gateway") != "Interface"


def _created_assigning_ipv6(s: Sides) -> bool:
    return s.a.get("assignIpv6AddressOnCreation") is True


def _rules(path: str, commit: str, *inputs: str, note: str = "") -> Rules:
    """The common case: unconditional `forces` read in one file, the rest updated by its Update."""
    url = tf_aws(path, commit)
    return Rules(source=url, forces=(Forces(inputs, url),) if inputs else (), note=note)


_S3_CONFIG = "bucket", "expectedBucketOwner"

TABLE: dict[str, Rules] = {
    "aws:acm/certificate:Certificate": _rules(
        "acm/certificate.go",
        "01661ea3cbe6b07ed725b03c587d24ceb464484a",
        "certificateAuthorityArn",
        "domainName",
        "keyAlgorithm",
        "subjectAlternativeNames",
        "validationMethod",
        "validationOptions",
    ),
    "aws:acm/certificateValidation:CertificateValidation": _rules(
        "acm/certificate_validation.go",
        "004eea7f9b6658d88d652e89e10c7520a10ad6b8",
        "certificateArn",
        "validationRecordFqdns",
        note="no Update: every input replaces it (a validation is only waited for, nothing is deleted)",
    ),
    "aws:autoscaling/tag:Tag": _rules(
        "autoscaling/group_tag.go",
        "050ac11163cab8cdae5936a7f40b0e528ff780df",
        "autoscalingGroupName",
        "tag.key",
    ),
    "aws:cloudwatch/logGroup:LogGroup": _rules(
        "logs/group.go", "0073593e7d6993ba482409f4dc35438daaa79bb3", "logGroupClass", "name", "namePrefix"
    ),
    # resourceProjectUpdate sends every other field in UpdateProject, addressed by the name.
    "aws:codebuild/project:Project": _rules(
        "codebuild/project.go", "a24b7f2d73fd1843ed8ee15788f388196adec642", "name"
    ),
    "aws:codebuild/webhook:Webhook": _rules(
        "codebuild/webhook.go", "01c08000ddb14181b5bd19201d8fca311dc570e4", "projectName"
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _rules(
        "ec2/vpc_default_security_group.go", "01f431114674c27cf790fafb67ac274bf8f765e1", "vpcId"
    ),
    "aws:ec2/eip:Eip": _rules(
        "ec2/ec2_eip.go",
        "01606926a0c0ab9174aec440f976a48b0baee722",
        "address",
        "domain",
        "ipamPoolId",
        "networkBorderGroup",
        "publicIpv4Pool",
    ),
    "aws:ec2/internetGateway:InternetGateway": _rules(
        "ec2/vpc_internet_gateway.go",
        "08923b68b5ad6fcfdd38362fb5247e39a9b07add",
        note="nothing replaces it: a new vpcId detaches and attaches the same gateway",
    ),
    # Every launch-template setting is in resourceLaunchTemplateUpdate's updateKeys: a change
    # makes a new version; the name is only given to CreateLaunchTemplate.
    "aws:ec2/launchTemplate:LaunchTemplate": _rules(
        "ec2/ec2_launch_template.go", "025e4f81cab8553cb052aebfcc5987e2aa8c702a", "name", "namePrefix"
    ),
    "aws:ec2/natGateway:NatGateway": _rules(
        "ec2/vpc_nat_gateway.go",
        "04088eaa54948421bf1ef7494ae2b2c01d9243e3",
        "allocationId",
        "connectivityType",
        "privateIp",
        "secondaryPrivateIpAddressCount",
        "subnetId",
    ),
    "aws:ec2/routeTable:RouteTable": _rules(
        "ec2/vpc_route_table.go", "022092419b7cda11527df3c6b51cbfe1876c1722", "vpcId"
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _rules(
        "ec2/vpc_route_table_association.go",
        "0be71beb458ad8875e0acc5c91519c0ceeb214aa",
        "gatewayId",
        "subnetId",
    ),
    "aws:ec2/securityGroup:SecurityGroup": _rules(
        "ec2/vpc_security_group.go",
        "01606926a0c0ab9174aec440f976a48b0baee722",
        "description",
        "name",
        "namePrefix",
        "vpcId",
    ),
    "aws:ec2/subnet:Subnet": Rules(
        source=tf_aws("ec2/vpc_subnet.go", "00cda125a19d31754cb0d073cf551264c57955cb"),
        forces=(
            Forces(
                (
                    "availabilityZone",
                    "availabilityZoneId",
                    "cidrBlock",
                    "ipv4IpamPoolId",
                    "ipv4NetmaskLength",
                    "ipv6IpamPoolId",
                    "ipv6Native",
                    "ipv6NetmaskLength",
                    "outpostArn",
                    "vpcId",
                ),
                tf_aws("ec2/vpc_subnet.go", "00cda125a19d31754cb0d073cf551264c57955cb"),
            ),
            Forces(
                ("ipv6CidrBlock",),
                tf_aws("ec2/vpc_subnet.go", "00cda125a19d31754cb0d073cf551264c57955cb"),
                when=_created_assigning_ipv6,
                condition="the subnet assigns IPv6 addresses on creation",
            ),
        ),
    ),
    "aws:ec2/vpc:Vpc": _rules(
        "ec2/vpc_.go",
        "00081ce41cc691433ac19bf42227cdabffd0454d",
        "cidrBlock",
        "ipv4IpamPoolId",
        "ipv4NetmaskLength",
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Rules(
        source=tf_aws("ec2/vpc_endpoint.go", "008db85aad5e56627b1eecab8830464a282552ed"),
        forces=(
            Forces(
                (
                    "dnsOptions.privateDnsPreference",
                    "dnsOptions.privateDnsSpecifiedDomains",
                    "resourceConfigurationArn",
                    "serviceName",
                    "serviceNetworkArn",
                    "serviceRegion",
                    "vpcEndpointType",
                    "vpcId",
                ),
                tf_aws("ec2/vpc_endpoint.go", "008db85aad5e56627b1eecab8830464a282552ed"),
            ),
            Forces(
                ("privateDnsEnabled",),
                tf_aws("ec2/vpc_endpoint.go", "008db85aad5e56627b1eecab8830464a282552ed"),
                when=_not_interface,
                condition="the endpoint is not of type Interface",
            ),
        ),
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": _rules(
        "ecr/lifecycle_policy.go",
        "00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
        "policy",
        "repository",
        note="no Update: a new policy replaces the policy (the repository and its images stay)",
    ),
    "aws:ecr/repository:Repository": _rules(
        "ecr/repository.go", "0072eea2d6046230a1fb7717741c17fd2122175e", "encryptionConfigurations", "name"
    ),
    "aws:eks/accessEntry:AccessEntry": _rules(
        "eks/access_entry.go",
        "01f431114674c27cf790fafb67ac274bf8f765e1",
        "clusterName",
        "principalArn",
        "type",
    ),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _rules(
        "eks/access_policy_association.go",
        "01f431114674c27cf790fafb67ac274bf8f765e1",
        "accessScope",
        "clusterName",
        "policyArn",
        "principalArn",
        note="no Update: every input replaces it",
    ),
    "aws:eks/addon:Addon": _rules(
        "eks/addon.go", "00a35305dc1b297a6fcdecdfbba33f1e63c3da39", "addonName", "clusterName"
    ),
    # vpcConfig.subnetIds and securityGroupIds carry no ForceNew in this schema (older provider
    # versions had it): resourceClusterUpdate sends them in UpdateClusterConfig, so new subnets
    # update the cluster in place.
    "aws:eks/cluster:Cluster": Rules(
        source=tf_aws("eks/cluster.go", "00555dc5b38f92abbfa230badea0ed0754cea81e"),
        forces=(
            Forces(
                (
                    "accessConfig.bootstrapClusterCreatorAdminPermissions",
                    "bootstrapSelfManagedAddons",
                    "kubernetesNetworkConfig.ipFamily",
                    "kubernetesNetworkConfig.serviceIpv4Cidr",
                    "name",
                    "outpostConfig.controlPlaneInstanceType",
                    "outpostConfig.controlPlanePlacement.groupName",
                    "remoteNetworkConfig",
                    "roleArn",
                ),
                tf_aws("eks/cluster.go", "00555dc5b38f92abbfa230badea0ed0754cea81e"),
            ),
            Forces(
                ("computeConfig.nodeRoleArn",),
                tf_aws("eks/cluster.go", "00555dc5b38f92abbfa230badea0ed0754cea81e"),
                when=_auto_mode_role_replaced,
                condition="EKS Auto Mode already had a node role (adding one is an update)",
            ),
            Forces(
                ("encryptionConfig",),
                tf_aws("eks/cluster.go", "00555dc5b38f92abbfa230badea0ed0754cea81e"),
                when=_encryption_removed,
                condition="envelope encryption is removed (it cannot be disabled in place)",
            ),
        ),
    ),
    "aws:eks/nodeGroup:NodeGroup": _rules(
        "eks/node_group.go",
        "012e0a32f0686212f447447fd3d81c3d0ce256ad",
        "amiType",
        "capacityType",
        "clusterName",
        "diskSize",
        "instanceTypes",
        "launchTemplate.id",
        "launchTemplate.name",
        "nodeGroupName",
        "nodeGroupNamePrefix",
        "nodeRoleArn",
        "remoteAccess",
        "subnetIds",
        note="launchTemplate.version, version and releaseVersion roll the nodes (UpdateNodegroupVersion)",
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _rules(
        "eks/pod_identity_association.go",
        "00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
        "clusterName",
        "namespace",
        "serviceAccount",
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": _rules(
        "glue/catalog_database.go",
        "0075c7864e9415d7cb404160187eeb9257b34ca6",
        "catalogId",
        "name",
        "targetDatabase",
    ),
    # Declared by the lake's datasets (issue 19): the columns (storageDescriptor) and partition
    # keys change in place through UpdateTable.
    "aws:glue/catalogTable:CatalogTable": _rules(
        "glue/catalog_table.go",
        "004debd4b86bc468e9f6d3c1208ed435a0afb873",
        "catalogId",
        "databaseName",
        "name",
        "openTableFormatInput.icebergInput.metadataOperation",
        "openTableFormatInput.icebergInput.version",
        "partitionIndices",
        "targetTable",
    ),
    "aws:glue/dataQualityRuleset:DataQualityRuleset": _rules(
        "glue/data_quality_ruleset.go", "0ef3e361e8ca04d4a331cad1fcebc98285188e7d", "name", "targetTable"
    ),
    "aws:iam/role:Role": _rules(
        "iam/role.go", "0040ea6911af00bea2cca6dbb14e86829826ad8e", "name", "namePrefix", "path"
    ),
    "aws:iam/rolePolicy:RolePolicy": _rules(
        "iam/role_policy.go", "02f97af85f89a04e8ed89f5e8b64a9a67f3cfe07", "name", "namePrefix", "role"
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _rules(
        "iam/role_policy_attachment.go",
        "04c79849dbe7fbe76c3054b364357bcdaade9ac5",
        "policyArn",
        "role",
        note="no Update: every input replaces it",
    ),
    "aws:kms/alias:Alias": _rules(
        "kms/alias.go", "01c08000ddb14181b5bd19201d8fca311dc570e4", "name", "namePrefix"
    ),
    "aws:kms/key:Key": _rules(
        "kms/key.go",
        "00a35305dc1b297a6fcdecdfbba33f1e63c3da39",
        "customKeyStoreId",
        "customerMasterKeySpec",
        "keyUsage",
        "multiRegion",
        "xksKeyId",
    ),
    "aws:route53/record:Record": _rules(
        "route53/record.go", "00655c1681ea1e49ab10cd32d3f8bee372b2095b", "name", "zoneId"
    ),
    "aws:s3/bucket:Bucket": _rules(
        "s3/bucket.go",
        "0070bcd12c952f14c5434a6f351ef7b6fa791226",
        "bucket",
        "bucketPrefix",
        "objectLockEnabled",
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _rules(
        "s3/bucket_lifecycle_configuration.go", "01606926a0c0ab9174aec440f976a48b0baee722", *_S3_CONFIG
    ),
    "aws:s3/bucketLogging:BucketLogging": _rules(
        "s3/bucket_logging.go", "01f431114674c27cf790fafb67ac274bf8f765e1", *_S3_CONFIG
    ),
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _rules(
        "s3/bucket_object_lock_configuration.go",
        "01c08000ddb14181b5bd19201d8fca311dc570e4",
        *_S3_CONFIG,
        "objectLockEnabled",
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _rules(
        "s3/bucket_ownership_controls.go", "01c08000ddb14181b5bd19201d8fca311dc570e4", "bucket"
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _rules(
        "s3/bucket_policy.go", "0073593e7d6993ba482409f4dc35438daaa79bb3", "bucket"
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _rules(
        "s3/bucket_public_access_block.go", "01606926a0c0ab9174aec440f976a48b0baee722", "bucket"
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _rules(
        "s3/bucket_server_side_encryption_configuration.go",
        "01606926a0c0ab9174aec440f976a48b0baee722",
        *_S3_CONFIG,
    ),
    "aws:s3/bucketVersioning:BucketVersioning": _rules(
        "s3/bucket_versioning.go", "01c08000ddb14181b5bd19201d8fca311dc570e4", *_S3_CONFIG
    ),
}

# The egress rule is the ingress rule's code with the other direction; both are read in the
# ingress rule's file.
_SG_RULE = Rules(
    source=tf_aws("ec2/vpc_security_group_ingress_rule.go", "00a322094b4b9ade8a81b244345dbcf4b52ee8d6"),
    forces=(
        Forces(
            ("securityGroupId",),
            tf_aws("ec2/vpc_security_group_ingress_rule.go", "00a322094b4b9ade8a81b244345dbcf4b52ee8d6"),
        ),
        Forces(
            _SG_RULE_SOURCES,
            tf_aws("ec2/vpc_security_group_ingress_rule.go", "00a322094b4b9ade8a81b244345dbcf4b52ee8d6"),
            when=_source_kind_changes,
            condition="the rule changes the kind of its source (CIDR, prefix list or security group)",
        ),
    ),
)
TABLE["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"] = _SG_RULE
TABLE["aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"] = _SG_RULE
