"""Cluster under the mock runtime: the hardened EKS mode per stack, and the `existing` mode."""

from __future__ import annotations

import json

import pytest

from dataops.plan import ROOT
from tests.conftest import CLOUD_STACKS, SANDBOX_HOSTS, policy

EKS = "aws:eks/cluster:Cluster"
NODEGROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ADDON = "aws:eks/addon:Addon"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
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


ADMIN = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformAdmin_5c1e7a9b3d2f4e60"
ROLE = "arn:aws:iam::111122223333:role/dataops-github-{}"
POLICY = "arn:aws:eks::aws:cluster-access-policy/{}"


def access(plan) -> dict[str, tuple[dict, list]]:
    """principal -> (access scope and policy, Kubernetes groups)."""
    groups = {e.inputs["principalArn"]: e.inputs.get("kubernetesGroups", []) for e in plan.of_type(ENTRY)}
    return {
        a.inputs["principalArn"]: (
            {"policy": a.inputs["policyArn"], **a.inputs["accessScope"]},
            groups[a.inputs["principalArn"]],
        )
        for a in plan.of_type(ASSOCIATION)
    }


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_cluster_version_auth_mode_and_access_entries(plans, stack):
    plan = plans[stack]
    eks = one(plan, EKS).inputs
    assert eks["version"] == "1.35"
    assert eks["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    expected = {
        ADMIN: ({"policy": POLICY.format("AmazonEKSClusterAdminPolicy"), "type": "cluster"}, []),
        ROLE.format("deploy"): (
            {"policy": POLICY.format("AmazonEKSClusterAdminPolicy"), "type": "cluster"},
            [],
        ),
        ROLE.format("preview"): ({"policy": POLICY.format("AmazonEKSViewPolicy"), "type": "cluster"}, []),
    }
    if stack in SANDBOX_HOSTS:  # the sandbox role: their namespaces only
        expected[ROLE.format("sandbox")] = (
            {
                "policy": POLICY.format("AmazonEKSAdminPolicy"),
                "type": "namespace",
                "namespaces": ["sandbox-*"],
            },
            ["dataops-sandbox-managers"],
        )
    assert access(plan) == expected
    assert len(plan.of_type(ENTRY)) == len(expected), "one access entry per principal"


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_kubernetes_provider_waits_for_every_access_grant(plans, stack):
    plan = plans[stack]
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    grants = {a.urn for a in plan.of_type(ASSOCIATION)}
    assert grants <= set(provider.dependencies)


def test_sandbox_rbac_and_admission_policy_exist_only_where_sandboxes_are_hosted(plans):
    kinds = {
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    }
    for stack in CLOUD_STACKS:
        found = {r.type for r in plans[stack].resources if r.type in kinds}
        assert found == (kinds if stack in SANDBOX_HOSTS else set()), stack
    host = plans[SANDBOX_HOSTS[0]]
    binding = host.named("cluster-sandbox-manager-binding").inputs
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "dataops-sandbox-managers"}
    ]
    policy = host.named("cluster-sandbox-namespaces-only").inputs["spec"]
    assert policy["failurePolicy"] == "Fail"
    vap_binding = host.named("cluster-sandbox-namespaces-only-binding").inputs["spec"]
    assert vap_binding == {"policyName": "dataops-sandbox-namespaces-only", "validationActions": ["Deny"]}


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_the_private_endpoint_admits_443_from_the_runner_only(plans, stack):
    plan = plans[stack]
    eks = one(plan, EKS).inputs
    (api_sg_id,) = eks["vpcConfig"]["securityGroupIds"]
    api_sg = plan.named("cluster-api-sg")
    assert api_sg.urn in one(plan, EKS).dependencies
    rules = [r for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == api_sg_id]
    runner_sg = plan.named("ci-runner-sg")
    assert [
        (
            r.inputs["ipProtocol"],
            r.inputs["fromPort"],
            r.inputs["toPort"],
            r.inputs.get("referencedSecurityGroupId"),
        )
        for r in rules
    ] == [("tcp", 443, 443, f"sg-{runner_sg.urn and _sg_id(plan, runner_sg)}")]
    assert not any("cidrIpv4" in r.inputs for r in rules), "no address range is admitted in these stacks"


def _sg_id(plan, sg) -> str:
    # the fake cloud's id of a security group: sg- and a digest of its type and name
    from dataops.fake_cloud import _digest

    return _digest(sg.type, sg.name)[:17]


def test_private_access_cidrs_add_one_rule_each(plan_with):
    plan = plan_with(
        "test",
        (ROOT / "Pulumi.test.yaml")
        .read_text()
        .replace("    network:\n", "    privateAccessCidrs: [10.100.0.0/16, 192.168.8.0/24]\n    network:\n"),
    )
    cidrs = sorted(r.inputs.get("cidrIpv4", "") for r in plan.of_type(INGRESS) if "cidrIpv4" in r.inputs)
    assert cidrs == ["10.100.0.0/16", "192.168.8.0/24"]


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
    private = eks["vpcConfig"]["subnetIds"]
    assert len(private) == 3
    for group in plan.of_type(NODEGROUP):
        if group.inputs["nodeGroupName"] == "system":
            assert group.inputs["subnetIds"] == private, group.urn
        else:  # one notebook group per AZ, each in that AZ's private subnet
            index = int(group.inputs["nodeGroupName"].rsplit("-", 1)[1])
            assert group.inputs["subnetIds"] == [private[index]], group.urn


@pytest.mark.parametrize("stack", CLOUD_STACKS)
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


def test_notebook_nodes_scale_from_zero_in_each_az_and_only_take_user_pods(plans):
    groups = {g.inputs["nodeGroupName"]: g for g in plans["dev"].of_type(NODEGROUP)}
    assert set(groups) == {"system", "notebooks-0", "notebooks-1"}
    for name in ("notebooks-0", "notebooks-1"):
        notebooks = groups[name].inputs
        assert notebooks["scalingConfig"]["minSize"] == 0 and notebooks["scalingConfig"]["desiredSize"] == 0
        assert notebooks["labels"] == {"dataops.io/pool": "notebooks", "hub.jupyter.org/node-purpose": "user"}
        assert notebooks["taints"] == [
            {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NO_SCHEDULE"}
        ]
    assert "taints" not in groups["system"].inputs
    assert groups["system"].inputs["scalingConfig"]["minSize"] >= 1


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_empty_notebook_groups_tell_the_autoscaler_their_labels_and_taint(plans, stack):
    """Scale from zero: the node-template tags on each notebook group's Auto Scaling group
    describe the label and taint the user pods select and tolerate."""
    plan = plans[stack]
    tags = plan.of_type("aws:autoscaling/tag:Tag")
    for group in plan.of_type(NODEGROUP):
        if group.inputs["nodeGroupName"] == "system":
            continue
        asg = f"eks-{group.inputs['nodeGroupName']}-"
        mine = {
            t.inputs["tag"]["key"]: t.inputs["tag"]["value"]
            for t in tags
            if t.inputs["autoscalingGroupName"].startswith(asg)
        }
        template = "k8s.io/cluster-autoscaler/node-template"
        expected = {f"{template}/label/{k}": v for k, v in group.inputs["labels"].items()}
        expected |= {
            f"{template}/taint/{t['key']}": f"{t['value']}:NoSchedule" for t in group.inputs["taints"]
        }
        assert mine == expected, group.urn
        assert all(t.inputs["tag"]["propagateAtLaunch"] is False for t in tags)


def test_gpu_nodes_only_where_gpu_profiles_are_on(plans, everything):
    assert not any(
        "gpu" in g.inputs["nodeGroupName"] for s in CLOUD_STACKS for g in plans[s].of_type(NODEGROUP)
    )
    gpu = [g.inputs for g in everything.of_type(NODEGROUP) if g.inputs["nodeGroupName"].startswith("gpu-")]
    assert len(gpu) == 3 and all(
        g["amiType"] == "AL2023_x86_64_NVIDIA" and g["scalingConfig"]["minSize"] == 0 for g in gpu
    )
    assert all(g["labels"]["dataops.io/pool"] == "gpu" for g in gpu)


def test_addons_network_policy_by_calico_ebs_csi_and_pod_identity(plans):
    addons = {a.inputs["addonName"]: a.inputs for a in plans["prod"].of_type(ADDON)}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"}
    # Calico enforces policy; the CNI's own agent would conflict with it
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {
        "enableNetworkPolicy": "false",
        "env": {"ANNOTATE_POD_IP": "true"},
    }
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


@pytest.mark.parametrize("stack", CLOUD_STACKS)
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


@pytest.mark.parametrize("stack", CLOUD_STACKS)
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
