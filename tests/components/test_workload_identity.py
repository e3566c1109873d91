"""Every Pod Identity association of every plan hands out a role whose trust policy admits the
request EKS really makes for that association, and nothing else.

The request is the one EKS documents: `pods.eks.amazonaws.com` calls sts:AssumeRole and
sts:TagSession with the session tags eks-cluster-arn, eks-cluster-name, kubernetes-namespace,
kubernetes-service-account, kubernetes-pod-name and kubernetes-pod-uid
(https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html). The trust policy is judged
with the project's evaluator (dataops/iam_eval.py), for the association itself and for the same
request from another namespace, service account or cluster of the account.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import pytest

from dataops.fake_cloud import ACCOUNT_ID, role_name
from dataops.iam_eval import Request, permits
from dataops.plan import Plan
from tests.conftest import CLOUD_STACKS

ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
# Add-ons put their service accounts in kube-system (EKS user guide, "IAM roles for Amazon EKS
# add-ons", https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html).
ADDON_NAMESPACE = "kube-system"


@dataclass(frozen=True)
class Association:
    where: str
    cluster: str
    namespace: str
    service_account: str
    role_arn: str


def associations(plan: Plan) -> list[Association]:
    out = [
        Association(
            r.urn,
            r.inputs["clusterName"],
            r.inputs["namespace"],
            r.inputs["serviceAccount"],
            r.inputs["roleArn"],
        )
        for r in plan.of_type(ASSOCIATION)
    ]
    for addon in plan.of_type(ADDON):
        for a in addon.inputs.get("podIdentityAssociations") or []:
            out.append(
                Association(
                    addon.urn, addon.inputs["clusterName"], ADDON_NAMESPACE, a["serviceAccount"], a["roleArn"]
                )
            )
    return out


def trust_of(plan: Plan, role_arn: str) -> dict:
    roles = {f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name(r.name, r.inputs)}": r for r in plan.of_type(ROLE)}
    assert role_arn in roles, f"{plan.stack}: no role {role_arn} in the plan"
    return json.loads(roles[role_arn].inputs["assumeRolePolicy"])


def cluster_arn(name: str) -> str:
    return f"arn:aws:eks:eu-west-1:{ACCOUNT_ID}:cluster/{name}"


def eks_request(action: str, cluster: str, namespace: str, service_account: str) -> Request:
    """What EKS Pod Identity sends to STS for a pod of `cluster`/`namespace` under `service_account`."""
    tags = {
        "eks-cluster-arn": cluster_arn(cluster),
        "eks-cluster-name": cluster,
        "kubernetes-namespace": namespace,
        "kubernetes-service-account": service_account,
        "kubernetes-pod-name": f"{service_account}-7d9f8c6b5-x2x4z",
        "kubernetes-pod-uid": "2f1c5e1a-8d2b-4c43-9a57-1b1d3c2e4f50",
    }
    return Request(
        action,
        "",
        principal="",
        principal_service="pods.eks.amazonaws.com",
        context={f"aws:RequestTag/{k}": v for k, v in tags.items()},
    )


def findings(trust: dict, a: Association) -> list[str]:
    """What is wrong with `trust` for association `a`: each a sentence naming it."""
    out = []
    for action in ("sts:AssumeRole", "sts:TagSession"):
        if not permits(trust, eks_request(action, a.cluster, a.namespace, a.service_account)):
            out.append(f"{a.where}: EKS's {action} for {a.namespace}/{a.service_account} is refused")
    others = {
        "another namespace": (a.cluster, f"{a.namespace}-other", a.service_account),
        "another service account": (a.cluster, a.namespace, f"{a.service_account}-other"),
        "another cluster": (f"{a.cluster}-other", a.namespace, a.service_account),
    }
    for what, (cluster, namespace, account) in others.items():
        if permits(trust, eks_request("sts:AssumeRole", cluster, namespace, account)):
            out.append(f"{a.where}: {what} ({cluster}/{namespace}/{account}) may assume {a.role_arn}")
    untagged = eks_request("sts:AssumeRole", a.cluster, a.namespace, a.service_account)
    if permits(
        trust, Request(untagged.action, "", principal="", principal_service=untagged.principal_service)
    ):
        out.append(f"{a.where}: a request without session tags may assume {a.role_arn}")
    return out


def every_association(plans, everything, sandbox_plan):
    named = {**{s: plans[s] for s in CLOUD_STACKS}, "everything": everything, "sandbox": sandbox_plan}
    for label, plan in named.items():
        for a in associations(plan):
            yield label, plan, a


def test_every_stack_has_the_associations_it_needs(plans, sandbox_plan):
    for stack in CLOUD_STACKS:
        found = {(a.namespace, a.service_account) for a in associations(plans[stack])}
        assert found == {
            ("kube-system", "aws-node"),
            ("kube-system", "ebs-csi-controller-sa"),
            ("kube-system", "aws-load-balancer-controller"),
            ("kube-system", "cluster-autoscaler"),
            ("data-science", "data-access"),
            ("jupyterhub", "data-access"),
        }, stack
    assert {(a.namespace, a.service_account) for a in associations(sandbox_plan)} == {
        ("sandbox-demo", "data-access")
    }


def test_each_trust_admits_its_association_and_nothing_else(plans, everything, sandbox_plan):
    checked = 0
    for label, plan, a in every_association(plans, everything, sandbox_plan):
        assert findings(trust_of(plan, a.role_arn), a) == [], label
        checked += 1
    assert checked == len(CLOUD_STACKS) * 6 + len(associations(everything)) + 1  # 6: the set above


def test_no_association_turns_the_session_tags_off(plans, everything, sandbox_plan):
    for plan in [*(plans[s] for s in CLOUD_STACKS), everything, sandbox_plan]:
        for r in plan.of_type(ASSOCIATION):
            assert not r.inputs.get("disableSessionTags"), r.urn


def _conditions(trust: dict) -> list[tuple[int, str, str]]:
    return [
        (i, operator, key)
        for i, s in enumerate(trust["Statement"])
        for operator, checks in (s.get("Condition") or {}).items()
        for key in checks
    ]


@pytest.mark.parametrize("stack", CLOUD_STACKS)
def test_dropping_any_condition_is_caught(plans, stack):
    """Each condition of each Pod Identity trust is load-bearing: without it, some other pod
    gets the role (the check above would fail)."""
    plan = plans[stack]
    for a in associations(plan):
        trust = trust_of(plan, a.role_arn)
        conditions = _conditions(trust)
        assert conditions, a.where
        for i, operator, key in conditions:
            mutant = copy.deepcopy(trust)
            del mutant["Statement"][i]["Condition"][operator][key]
            assert findings(mutant, a), f"{a.where}: dropping {operator} {key} went unnoticed"
        mutant = copy.deepcopy(trust)
        mutant["Statement"][0]["Action"] = ["sts:AssumeRole"]
        assert findings(mutant, a), f"{a.where}: dropping sts:TagSession went unnoticed"
