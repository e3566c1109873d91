"""Replacement rules of the Kubernetes kinds the program declares.

pulumi-kubernetes replaces an object when its name or namespace changes (its identity), and for
a few kinds when a field it lists changes (`forceNewProperties` in provider/pkg/provider/diff.go;
`Diff` in provider.go). The API server refuses other changes to fields it treats as immutable:
pulumi-kubernetes plans those as updates, and `pulumi up` fails on them; they are `refused` here,
with the API server's validation as the source. Paths are the plan's inputs (camelCase, lists
without their indices).
"""

from __future__ import annotations

from dataops.replacements.model import Forces, Rules, Sides

_PK = "https://github.com/pulumi/pulumi-kubernetes/blob/94977969d64112b04e19945818a7d5d5f38f631d/provider/pkg/provider"
DIFF = f"{_PK}/diff.go"
PROVIDER = f"{_PK}/provider.go"
HELM_RELEASE = f"{_PK}/helm_release.go"
_K8S = "https://github.com/kubernetes/kubernetes/blob"
STORAGE_VALIDATION = (
    f"{_K8S}/d5e281419c669ba8988fdf91f2a165f96701ac56/pkg/apis/storage/validation/validation.go"
)

# Every kind: forceNewProperties starts from `.metadata.name` and `.metadata.namespace`
# (metadataForceNewProperties).
_IDENTITY = Forces(("metadata.name", "metadata.namespace"), DIFF)


def _secret_data_immutable(s: Sides) -> bool:
    """diff.go: a Secret's data replaces it unless the provider enables `enableSecretMutable`
    and the Secret is not marked `immutable`."""
    mutable = str(s.provider.get("enableSecretMutable", "")).lower() == "true"
    return not mutable or s.b.get("immutable") is True


def _kind(*fields: str, source: str = DIFF, refused: tuple[Forces, ...] = (), note: str = "") -> Rules:
    forces = (_IDENTITY, Forces(fields, source)) if fields else (_IDENTITY,)
    return Rules(source=PROVIDER, forces=forces, refused=refused, note=note)


TABLE: dict[str, Rules] = {
    "kubernetes:core/v1:Namespace": _kind(note="deleting a namespace deletes every object in it"),
    "kubernetes:core/v1:ServiceAccount": _kind(),
    "kubernetes:core/v1:LimitRange": _kind(),
    "kubernetes:core/v1:ResourceQuota": _kind("spec.scopes"),
    "kubernetes:core/v1:Service": _kind("spec.clusterIP"),
    "kubernetes:core/v1:Secret": Rules(
        source=PROVIDER,
        forces=(
            _IDENTITY,
            Forces(("type",), DIFF),
            Forces(
                ("data", "stringData"),
                DIFF,
                when=_secret_data_immutable,
                condition="the provider does not set enableSecretMutable (the default)",
            ),
        ),
    ),
    "kubernetes:apps/v1:Deployment": _kind("spec.selector"),
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _kind(),
    "kubernetes:networking.k8s.io/v1:Ingress": _kind(),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole": _kind(),
    # The API server refuses a new roleRef too (ValidateClusterRoleBindingUpdate in
    # kubernetes/kubernetes pkg/apis/rbac/validation/validation.go).
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": _kind("roleRef"),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": _kind(),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": _kind(),
    # ValidateStorageClassUpdate forbids changing parameters, provisioner and reclaimPolicy, and
    # volumeBindingMode is immutable; pulumi-kubernetes replaces on the first two only.
    "kubernetes:storage.k8s.io/v1:StorageClass": _kind(
        "parameters",
        "provisioner",
        refused=(Forces(("reclaimPolicy", "volumeBindingMode"), STORAGE_VALIDATION),),
    ),
    # helm_release.go's Diff: a release is replaced when its name or namespace changes; any
    # other change is a `helm upgrade`.
    "kubernetes:helm.sh/v3:Release": Rules(
        source=HELM_RELEASE, forces=(Forces(("name", "namespace"), HELM_RELEASE),)
    ),
    # A component the provider renders into objects (Chart v4): a change re-renders it, and each
    # object is then updated or replaced by its own kind's rules, which the offline plan does not
    # see (it records the chart, not the objects).
    "kubernetes:helm.sh/v4:Chart": Rules(
        source=f"{_PK}/helm/v4/chart.go",
        note="its objects follow their own kinds' rules; the offline plan does not render them",
    ),
}
