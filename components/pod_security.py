"""Pod Security Standards as the platform applies them: the namespace labels that set a level,
and the container securityContext the `restricted` level requires of every container
(Kubernetes docs, "Pod Security Standards", restricted: no privilege escalation, all
capabilities dropped, non-root, a RuntimeDefault seccomp profile:
https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted)."""

from __future__ import annotations

ENFORCE = "pod-security.kubernetes.io/enforce"
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
# The notebook image's user (docker-stacks: jovyan, NB_UID 1000, NB_GID 100; images/notebook/Dockerfile).
NOTEBOOK_UID, NOTEBOOK_GID = 1000, 100
# The pod securityContext of every pod the platform runs the notebook image in itself (a sandbox's
# server, Dask schedulers and workers): `restricted`, as that user, its files in its group.
NOTEBOOK_POD = {
    "runAsNonRoot": True,
    "runAsUser": NOTEBOOK_UID,
    "runAsGroup": NOTEBOOK_GID,
    "fsGroup": NOTEBOOK_GID,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def namespace_labels(level: str) -> dict[str, str]:
    """The labels that enforce `level` on a namespace, and warn and audit at it too."""
    return {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "warn", "audit")}
