"""The `restricted` checker the tests judge run-time pods with (tests/pod_security.py) refuses
what the standard refuses, one check at a time, and admits a compliant pod."""

from __future__ import annotations

import copy

import pytest

from tests.pod_security import violations

GOOD = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        {
            "name": "main",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            "ports": [{"containerPort": 8786}],
        }
    ],
    "volumes": [{"name": "creds", "secret": {"secretName": "x"}}, {"name": "tmp", "emptyDir": {}}],
}


def test_a_compliant_pod_is_admitted():
    assert violations(GOOD) == []


def _set(spec, path, value):
    *parents, last = path
    for key in parents:
        spec = spec[key]
    spec[last] = value


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("hostNetwork",), True, "hostNetwork"),
        (("volumes", 1), {"name": "host", "hostPath": {"path": "/"}}, "hostPath"),
        (("securityContext", "runAsNonRoot"), False, "runAsNonRoot"),
        (("securityContext", "runAsUser"), 0, "runAsUser 0"),
        (("securityContext", "seccompProfile"), {"type": "Unconfined"}, "seccompProfile is Unconfined"),
        (("containers", 0, "securityContext", "allowPrivilegeEscalation"), True, "allowPrivilegeEscalation"),
        (("containers", 0, "securityContext", "privileged"), True, "privileged"),
        (("containers", 0, "securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "drop ALL"),
        (
            ("containers", 0, "securityContext", "capabilities"),
            {"drop": ["ALL"], "add": ["NET_ADMIN"]},
            "add ['NET_ADMIN']",
        ),
        (("containers", 0, "ports", 0, "hostPort"), 8786, "hostPort"),
    ],
)
def test_each_check_refuses_its_violation(path, value, expected):
    spec = copy.deepcopy(GOOD)
    _set(spec, path, value)
    found = violations(spec)
    assert len(found) == 1 and expected in found[0], found


def test_a_container_setting_overrides_the_pods():
    """runAsNonRoot and seccomp may be set on the pod or on each container; a container's own
    setting wins."""
    spec = copy.deepcopy(GOOD)
    spec["securityContext"] = {}
    assert len(violations(spec)) == 2
    spec["containers"][0]["securityContext"] |= {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "Localhost"},
    }
    assert violations(spec) == []
    spec = copy.deepcopy(GOOD)
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = False
    assert violations(spec) == ["main: runAsNonRoot is not true"]
