"""The Pod Security Standards' `restricted` checks on a pod spec, as the admission controller
applies them (Kubernetes docs, "Pod Security Standards", baseline and restricted:
https://kubernetes.io/docs/concepts/security/pod-security-standards/), for pods the plan does not
contain as objects (those a controller makes at run time, or a chart renders). One line per
violation; none means admitted."""

from __future__ import annotations

from typing import Any

# Volume types `restricted` allows (the list in the standard, plus `image` from 1.33).
VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "image",
}
SECCOMP = {"RuntimeDefault", "Localhost"}


def violations(spec: dict[str, Any]) -> list[str]:
    """What `restricted` refuses in a pod spec (`spec`, not the whole Pod)."""
    out = []
    pod = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            out.append(f"(pod): {field}")
    for volume in spec.get("volumes") or []:
        kind = next((k for k in volume if k != "name"), None)
        if kind not in VOLUMES:
            out.append(f"(pod): volume {volume.get('name')} of type {kind}")
    if pod.get("runAsUser") == 0:
        out.append("(pod): runAsUser 0")
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    for container in containers:
        name = container.get("name", "?")
        ctx = container.get("securityContext") or {}
        if ctx.get("privileged"):
            out.append(f"{name}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            out.append(f"{name}: allowPrivilegeEscalation is not false")
        non_root = ctx.get("runAsNonRoot", pod.get("runAsNonRoot"))
        if non_root is not True:
            out.append(f"{name}: runAsNonRoot is not true")
        if ctx.get("runAsUser") == 0:
            out.append(f"{name}: runAsUser 0")
        seccomp = (ctx.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
        if seccomp not in SECCOMP:
            out.append(f"{name}: seccompProfile is {seccomp or 'unset'}")
        caps = ctx.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            out.append(f"{name}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            out.append(f"{name}: capabilities add {sorted(set(caps['add']) - {'NET_BIND_SERVICE'})}")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                out.append(f"{name}: hostPort {port['hostPort']}")
    return out
