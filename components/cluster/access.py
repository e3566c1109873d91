"""Who may reach an EKS cluster's Kubernetes API, and with which rights.

Access entries (authentication mode `API`) are the only way in: the cluster creator gets
nothing by default. Each principal is an IAM role that must already exist, so each is looked up
by name first: a role missing from the account fails the preview, not the apply halfway through
(`CreateAccessEntry` refuses a principal that does not exist, and the stored role id would not
match one recreated later; EKS user guide, "Create access entries",
https://docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html). Role ARNs keep
their path (IAM Identity Center roles live under /aws-reserved/sso.amazonaws.com/...): access
entries accept and need it, unlike the old aws-auth ConfigMap.

Access policies (https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html):
- `cluster.adminRoles`, `ci.deployRole`: AmazonEKSClusterAdminPolicy, cluster scope;
- `ci.previewRole`: AmazonEKSViewPolicy, cluster scope (a preview falls back to a client-side
  diff where a server-side dry run is forbidden: pulumi/pulumi-kubernetes#2419);
- `ci.sandboxRole`, on clusters that host sandboxes: AmazonEKSAdminPolicy scoped to the
  namespaces `sandbox-*` (wildcards are documented for namespace scopes), plus the group below.

A sandbox stack also creates its namespace, quota and limit range, which no access policy
grants (they give `namespaces` get/list/watch only, and `admin` does not write quotas). The
sandbox role's access entry therefore carries the Kubernetes group `dataops-sandbox-managers`,
bound to a ClusterRole for exactly those kinds; RBAC cannot limit a `create` by name, so a
ValidatingAdmissionPolicy (GA since Kubernetes 1.30) refuses any write by that group outside
namespaces named `sandbox-*`, and any namespace of theirs that does not enforce Pod Security
`restricted`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.pod_security import ENFORCE

POLICY_ARN = "arn:{partition}:eks::aws:cluster-access-policy/{name}"
SANDBOX_PREFIX = "sandbox-"
SANDBOX_GROUP = "dataops-sandbox-managers"
SANDBOX_POLICY = "dataops-sandbox-namespaces-only"
# Kinds a sandbox stack writes that the namespace-scoped AmazonEKSAdminPolicy does not grant.
SANDBOX_CLUSTER_RULES = [
    {
        "apiGroups": [""],
        "resources": ["namespaces", "resourcequotas", "limitranges"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    }
]
# CEL, evaluated by the API server for every write of those kinds by the sandbox group:
# namespaces by their name, the rest by the namespace they live in. An empty name (generateName)
# or namespace fails the test, so the policy fails closed.
SANDBOX_VALIDATION = (
    "request.resource.resource == 'namespaces'"
    f" ? request.name.startsWith('{SANDBOX_PREFIX}')"
    f" : request.namespace.startsWith('{SANDBOX_PREFIX}')"
)
SANDBOX_MATCH = f"'{SANDBOX_GROUP}' in request.userInfo.groups"
# ... and a namespace it creates or changes keeps Pod Security `restricted` (at the latest
# version): with `privileged`, its admin access policy would let it run privileged or hostPath
# pods on the host's nodes, next to other teams' pods and their credentials.
SANDBOX_RESTRICTED = (
    "request.resource.resource != 'namespaces' || request.operation == 'DELETE'"
    " || (has(object.metadata.labels)"
    f" && '{ENFORCE}' in object.metadata.labels"
    f" && object.metadata.labels['{ENFORCE}'] == 'restricted'"
    f" && (!('{ENFORCE}-version' in object.metadata.labels)"
    f" || object.metadata.labels['{ENFORCE}-version'] == 'latest'))"
)


@dataclass(frozen=True)
class Grant:
    key: str
    """The config key that named the role (in messages and resource names)."""
    role_arn: str
    policy: str
    namespaces: tuple[str, ...] = ()
    """Namespace scope (wildcards allowed); empty: the whole cluster."""
    groups: tuple[str, ...] = ()


def grants(
    admin_roles: list[str],
    deploy_role: str | None,
    preview_role: str | None,
    sandbox_role: str | None,
) -> list[Grant]:
    out = [Grant(f"admin-{i}", arn, "AmazonEKSClusterAdminPolicy") for i, arn in enumerate(admin_roles)]
    if deploy_role:
        out.append(Grant("deploy", deploy_role, "AmazonEKSClusterAdminPolicy"))
    if preview_role:
        out.append(Grant("preview", preview_role, "AmazonEKSViewPolicy"))
    if sandbox_role:
        out.append(
            Grant("sandbox", sandbox_role, "AmazonEKSAdminPolicy", (f"{SANDBOX_PREFIX}*",), (SANDBOX_GROUP,))
        )
    return out


def existing_role_arn(configured: str, *, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The role's ARN as IAM reports it. `GetRole` takes the name (the ARN's last segment); a
    missing role fails the lookup, and one that exists under another path or account is an
    error here, so an access entry is never created for a principal that is not there."""
    name = configured.rsplit("/", 1)[-1]
    found = aws.iam.get_role_output(name=name, opts=pulumi.InvokeOutputOptions(parent=parent))

    def same(actual: str) -> str:
        if actual != configured:
            raise pulumi.RunError(
                f"IAM role {name} is {actual}, not {configured}; copy its ARN from "
                f"`aws iam get-role --role-name {name} --query Role.Arn` into the stack config"
            )
        return actual

    return found.arn.apply(same)


def create_access_entries(
    name: str,
    cluster_name: pulumi.Input[str],
    partition: pulumi.Output[str],
    entries: list[Grant],
    tags: dict[str, str],
    *,
    parent: pulumi.Resource,
) -> list[pulumi.Resource]:
    """One access entry and one policy association per grant; returns the associations (the
    Kubernetes provider waits for them: without one, nobody could apply anything)."""
    child = pulumi.ResourceOptions(parent=parent)
    out: list[pulumi.Resource] = []
    for grant in entries:
        entry = aws.eks.AccessEntry(
            f"{name}-{grant.key}",
            cluster_name=cluster_name,
            principal_arn=existing_role_arn(grant.role_arn, parent=parent),
            kubernetes_groups=list(grant.groups) or None,
            type="STANDARD",
            tags=tags,
            opts=child,
        )
        scope = (
            {"type": "namespace", "namespaces": list(grant.namespaces)}
            if grant.namespaces
            else {"type": "cluster"}
        )
        out.append(
            aws.eks.AccessPolicyAssociation(
                f"{name}-{grant.key}-policy",
                cluster_name=cluster_name,
                principal_arn=entry.principal_arn,
                policy_arn=partition.apply(lambda p, n=grant.policy: POLICY_ARN.format(partition=p, name=n)),
                access_scope=scope,
                opts=child,
            )
        )
    return out


def sandbox_hosting(
    name: str, labels: dict[str, str], *, provider: k8s.Provider, parent: pulumi.Resource
) -> None:
    """What the sandbox group may do beyond its access policy, and the admission policy that
    keeps it inside `sandbox-*` namespaces."""
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    role = k8s.rbac.v1.ClusterRole(
        f"{name}-sandbox-manager",
        metadata={"name": SANDBOX_GROUP, "labels": labels},
        rules=SANDBOX_CLUSTER_RULES,
        opts=opts,
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-sandbox-manager-binding",
        metadata={"name": SANDBOX_GROUP, "labels": labels},
        role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": SANDBOX_GROUP},
        subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": SANDBOX_GROUP}],
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[role]),
    )
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        f"{name}-sandbox-namespaces-only",
        metadata={"name": SANDBOX_POLICY, "labels": labels},
        spec={
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE", "DELETE"],
                        "resources": ["namespaces", "resourcequotas", "limitranges"],
                    }
                ]
            },
            "matchConditions": [{"name": "sandbox-managers", "expression": SANDBOX_MATCH}],
            "validations": [
                {
                    "expression": SANDBOX_VALIDATION,
                    "message": f"the sandbox role may only write namespaces named {SANDBOX_PREFIX}*",
                },
                {
                    "expression": SANDBOX_RESTRICTED,
                    "message": "a sandbox namespace enforces Pod Security restricted",
                },
            ],
        },
        opts=opts,
    )
    k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        f"{name}-sandbox-namespaces-only-binding",
        metadata={"name": SANDBOX_POLICY, "labels": labels},
        spec={"policyName": SANDBOX_POLICY, "validationActions": ["Deny"]},
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[policy]),
    )
