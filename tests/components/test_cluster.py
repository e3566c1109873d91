"""Cluster under the mock runtime: the hardened EKS mode per stack, and the `existing` mode."""

from __future__ import annotations

import json

import pytest

from tests.conftest import policy

EKS = "aws:eks/cluster:Cluster"
NODEGROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
ALL_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def one(plan, type_):
    found = plan.of_type(type_)
    assert len(found) == 1, f"{plan.stack}: {len(found)} of {type_}"
    return found[0]


def test_prod_api_endpoint_is_private_with_encrypted_secrets_and_all_logs(plans):
    plan = plans["prod"]
    eks = one(plan, EKS).inputs
    assert eks["vpcConfig"]["endpointPrivateAccess"] is True
    assert eks["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in eks["vpcConfig"]
    key_arn = eks["encryptionConfig"]["provider"]["keyArn"]
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    assert plan.named("cluster-secrets-key").inputs["enableKeyRotation"] is True
    assert key_arn.startswith("arn:aws:kms:eu-west-1:111122223333:key/")
    assert sorted(eks["enabledClusterLogTypes"]) == sorted(ALL_LOGS)
    assert eks["deletionProtection"] is True
    assert one(plan, EKS).protect


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_cluster_version_auth_mode_and_admin_access_entries(plans, stack):
    plan = plans[stack]
    eks = one(plan, EKS).inputs
    assert eks["version"] == "1.35"
    assert eks["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    entries = plan.of_type("aws:eks/accessEntry:AccessEntry")
    assert [e.inputs["principalArn"] for e in entries] == ["arn:aws:iam::111122223333:role/platform-admin"]
    (grant,) = plan.of_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert grant.inputs["policyArn"].endswith(":cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert grant.inputs["accessScope"] == {"type": "cluster"}


def test_prod_spans_three_azs_with_a_nat_gateway_each_and_dev_shares_one(plans):
    for stack, azs in (("prod", 3), ("dev", 2)):
        plan = plans[stack]
        private = [s for s in plan.of_type("aws:ec2/subnet:Subnet") if "private" in s.name]
        assert len({s.inputs["availabilityZone"] for s in private}) == azs, stack
        nats = plan.of_type("aws:ec2/natGateway:NatGateway")
        assert len(nats) == (3 if stack == "prod" else 1), stack
        for subnet in private:
            assert subnet.inputs.get("mapPublicIpOnLaunch") in (None, False), subnet.urn


def test_nodes_use_only_private_subnets(plans):
    plan = plans["prod"]
    eks = one(plan, EKS).inputs
    public_cidrs = {
        s.inputs["cidrBlock"] for s in plan.of_type("aws:ec2/subnet:Subnet") if "public" in s.name
    }
    assert public_cidrs
    for group in plan.of_type(NODEGROUP):
        assert group.inputs["subnetIds"] == eks["vpcConfig"]["subnetIds"], group.urn
    assert len(eks["vpcConfig"]["subnetIds"]) == 3


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_launch_templates_enforce_imdsv2_with_hop_limit_1_and_encrypted_disks(plans, stack):
    templates = plans[stack].of_type(TEMPLATE)
    assert len(templates) == 2
    for t in templates:
        assert t.inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        }, t.urn
        ebs = t.inputs["blockDeviceMappings"][0]["ebs"]
        assert ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3", t.urn
    template_ids = {g.inputs["launchTemplate"]["id"] for g in plans[stack].of_type(NODEGROUP)}
    assert len(template_ids) == 2, "each node group runs on its own hardened launch template"


def test_notebook_nodes_scale_to_zero_in_dev_and_only_take_user_pods(plans):
    groups = {g.inputs["nodeGroupName"]: g.inputs for g in plans["dev"].of_type(NODEGROUP)}
    assert set(groups) == {"system", "notebooks"}
    notebooks = groups["notebooks"]
    assert notebooks["scalingConfig"]["minSize"] == 0
    assert notebooks["labels"] == {"dataops.io/pool": "notebooks", "hub.jupyter.org/node-purpose": "user"}
    assert notebooks["taints"] == [
        {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NO_SCHEDULE"}
    ]
    assert "taints" not in groups["system"]
    assert groups["system"]["scalingConfig"]["minSize"] >= 1


def test_addons_network_policy_ebs_csi_and_pod_identity(plans):
    addons = {a.inputs["addonName"]: a.inputs for a in plans["prod"].of_type(ADDON)}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert addons["vpc-cni"]["podIdentityAssociations"][0]["serviceAccount"] == "aws-node"
    assert (
        addons["aws-ebs-csi-driver"]["podIdentityAssociations"][0]["serviceAccount"]
        == "ebs-csi-controller-sa"
    )


def test_default_storage_class_is_encrypted_gp3(plans):
    for stack in ("dev", "prod"):
        sc = one(plans[stack], "kubernetes:storage.k8s.io/v1:StorageClass").inputs
        assert sc["provisioner"] == "ebs.csi.aws.com"
        assert sc["parameters"] == {"type": "gp3", "encrypted": "true"}
        assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
        assert sc["reclaimPolicy"] == ("Retain" if stack == "prod" else "Delete")


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_node_role_has_no_data_access(plans, stack):
    plan = plans[stack]
    node_role = plan.named("cluster-node-role")
    attached = [
        a.inputs["policyArn"]
        for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("cluster-node-")
    ]
    assert sorted(attached) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    ]
    inline = [p for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if node_role.urn in p.dependencies]
    assert inline == []
    assert policy(node_role)["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_every_kubernetes_resource_uses_the_cluster_provider_explicitly(plans, stack):
    plan = plans[stack]
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    k8s = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(k8s) >= 8
    for r in k8s:
        assert r.provider.startswith(provider.urn + "::"), (
            f"{r.urn} uses {r.provider or 'the default provider'}"
        )
    assert provider.inputs["kubeconfig"] == "[secret]"


def test_existing_mode_creates_no_aws_cluster_resources(plan_with):
    plan = plan_with(
        "test",
        """
        config:
          dataops-platform:environment: test
          dataops-platform:deletionProtection: false
          dataops-platform:lake: {role: consumer, ownerStack: prod}
          dataops-platform:image: {digest: "sha256:0b5a2c1e7f9d0b3a6c8e1f4d7b0a3c6e9f2d5b8a1c4e7f0a4f1d2b7c9a0e6f3d"}
          dataops-platform:cluster:
            mode: existing
            existing:
              context: corp-shared
              oidcProviderArn: arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC
              storageClass: encrypted-ssd
          dataops-platform:notebooks: {enabled: false}
    """,
    )
    aws_cluster = [r for r in plan.resources if r.type.startswith(("aws:eks/", "aws:ec2/"))]
    assert aws_cluster == []
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "corp-shared"
    sa = plan.named("team-data-science-data-access")
    assert sa.inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/dataops-test-data-access"
    }
    (trust,) = policy(plan.named("access-role"))["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    issuer = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"
    assert trust["Condition"]["StringEquals"][f"{issuer}:sub"] == [
        "system:serviceaccount:data-science:data-access"
    ]
    assert plan.outputs["cluster"]["storageClass"] == "encrypted-ssd"
