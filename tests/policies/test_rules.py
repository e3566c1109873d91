"""Every rule passes on every shipped stack and reports a violation crafted for it; unknown
values (a preview) never crash a rule."""

from __future__ import annotations

import copy
import dataclasses
import json
import re

import pytest

from components.config import MANDATORY_TAG_KEYS
from components.local_endpoint import UNSUPPORTED
from dataops.policy import Options, Resource, check, resources
from policies.pack import policies
from policies.rules import LOCAL_EXEMPT, MANDATORY_TAGS, RULES, UNKNOWN, run
from tests.conftest import SHIPPED

BY_NAME = {r.name: r for r in RULES}


def test_rule_metadata():
    assert len(BY_NAME) == len(RULES) >= 20
    for rule in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name
        assert rule.enforcement in ("mandatory", "advisory") and rule.severity in (
            "low",
            "medium",
            "high",
            "critical",
        )
        assert rule.description.endswith(".")
    assert sum(1 for r in RULES if r.controls) >= 16


def test_pack_objects(plans):
    built = {p.name: p for p in policies()}
    assert set(built) == set(BY_NAME)
    assert built["eks-private-endpoint"].enforcement_level.value == "mandatory"
    assert "FSBP EKS.1" in built["eks-private-endpoint"].description


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_stack_passes_every_rule(plans, stack):
    assert [str(v) for v in check(plans[stack])] == []


def test_everything_config_passes_every_rule(everything):
    assert [str(v) for v in check(everything)] == []


def test_a_sandbox_passes_every_rule(sandbox_plan):
    assert [str(v) for v in check(sandbox_plan)] == []


def test_the_pack_requires_exactly_the_tags_the_config_model_sets():
    """The pack keeps its own copy (see policies/rules.py, MANDATORY_TAGS): the two must agree."""
    assert len(set(MANDATORY_TAGS)) == len(MANDATORY_TAGS)
    assert set(MANDATORY_TAGS) == set(MANDATORY_TAG_KEYS)


def test_local_exemptions_are_exactly_the_unsupported_features():
    assert set(LOCAL_EXEMPT.values()) == set(UNSUPPORTED) - {"workload-role"}
    assert set(LOCAL_EXEMPT) <= set(BY_NAME)


def named(res, name):
    (r,) = [r for r in res if r.name == name]
    return r


def setting(res, type_name, bucket_name):
    bucket = named(res, bucket_name).props["bucket"]
    (r,) = [r for r in res if r.resource_type.endswith(type_name) and r.props.get("bucket") == bucket]
    return r


def edit_doc(r, fn):
    doc = json.loads(r.props["policy"])
    fn(doc)
    r.props["policy"] = json.dumps(doc)


def edit_trust(r, fn):
    doc = json.loads(r.props["assumeRolePolicy"])
    fn(doc)
    r.props["assumeRolePolicy"] = json.dumps(doc)


def drop(res, resource):
    res.remove(resource)


def protect_off(res, name):
    i = next(i for i, r in enumerate(res) if r.name == name)
    res[i] = dataclasses.replace(res[i], opts=dataclasses.replace(res[i].opts, protect=False))


BAD_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::x"}],
}
DECRYPT_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
}


def dask_config(res, edit):
    """Edit the Dask gateway chart's limits code (its blocks joined, edited, put back as one)."""
    values = named(res, "dask-chart").props["values"]["gateway"]
    extra = values["extraConfig"]
    values["extraConfig"] = {"all": edit("\n".join(extra[k] for k in sorted(extra)))}


VIOLATIONS = {
    # one limit of five dropped, or set to nothing
    "dask-gateway-limits": (
        "dev",
        lambda res: dask_config(res, lambda code: re.sub(r"idle_timeout = \d+", "idle_timeout = 0", code)),
    ),
    "s3-public-access-block": (
        "prod",
        lambda res: setting(res, "BucketPublicAccessBlock", "lake-raw-bucket").props.update(
            restrictPublicBuckets=False
        ),
    ),
    "s3-kms-encryption": (
        "prod",
        lambda res: (
            setting(res, "BucketServerSideEncryptionConfiguration", "lake-raw-bucket")
            .props["rules"][0]
            .update(bucketKeyEnabled=False)
        ),
    ),
    "s3-deny-insecure-transport": (
        "dev",
        lambda res: edit_doc(
            setting(res, "BucketPolicy", "access-workspace-bucket"),
            lambda d: d.update(Statement=[s for s in d["Statement"] if s["Sid"] != "DenyInsecureTransport"]),
        ),
    ),
    "s3-ownership-enforced": (
        "prod",
        lambda res: (
            setting(res, "BucketOwnershipControls", "lake-raw-bucket")
            .props["rule"]
            .update(objectOwnership="ObjectWriter")
        ),
    ),
    "s3-versioning": (
        "prod",
        lambda res: (
            setting(res, "BucketVersioning", "lake-curated-bucket")
            .props["versioningConfiguration"]
            .update(status="Suspended")
        ),
    ),
    "s3-access-logging": ("prod", lambda res: drop(res, setting(res, "BucketLogging", "lake-raw-bucket"))),
    "s3-lifecycle-abort-multipart": (
        "prod",
        lambda res: (
            setting(res, "BucketLifecycleConfiguration", "lake-raw-bucket")
            .props["rules"][0]
            .pop("abortIncompleteMultipartUpload")
        ),
    ),
    "s3-object-lock-prod": (
        "prod",
        lambda res: drop(res, setting(res, "BucketObjectLockConfiguration", "lake-analytics-bucket")),
    ),
    "kms-key-rotation": (
        "dev",
        lambda res: named(res, "access-workspace-key").props.update(enableKeyRotation=False),
    ),
    "iam-no-wildcards": (
        "dev",
        lambda res: named(res, "access-role-workspace").props.update(policy=json.dumps(BAD_POLICY)),
    ),
    "iam-no-decrypt-all-keys": (
        "dev",
        lambda res: named(res, "access-role-workspace").props.update(policy=json.dumps(DECRYPT_ALL)),
    ),
    "pod-identity-trust-scoped": (
        "dev",
        lambda res: edit_trust(
            named(res, "cluster-vpc-cni-role"),
            lambda d: d["Statement"][0]["Condition"]["StringEquals"].pop(
                "aws:RequestTag/kubernetes-namespace"
            ),
        ),
    ),
    "ecr-repository-hardened": (
        "dev",
        lambda res: named(res, "notebook-image-repository").props.update(imageTagMutability="MUTABLE"),
    ),
    "eks-private-endpoint": (
        "prod",
        lambda res: named(res, "cluster-eks").props["vpcConfig"].update(endpointPublicAccess=True),
    ),
    "eks-api-reachable": ("prod", lambda res: drop(res, named(res, "ci-runner-to-cluster-api"))),
    "eks-secrets-encryption": ("test", lambda res: named(res, "cluster-eks").props.pop("encryptionConfig")),
    "eks-control-plane-logs": (
        "prod",
        lambda res: named(res, "cluster-eks").props.update(enabledClusterLogTypes=["audit"]),
    ),
    "imdsv2-hop-limit-1": (
        "dev",
        lambda res: (
            named(res, "cluster-notebooks-template")
            .props["metadataOptions"]
            .update(httpPutResponseHopLimit=2)
        ),
    ),
    "k8s-pod-security": (
        "dev",
        lambda res: (
            named(res, "team-data-science-namespace")
            .props["metadata"]["labels"]
            .update({"pod-security.kubernetes.io/enforce": "baseline"})
        ),
    ),
    "hub-not-open-to-the-internet": (
        "prod",
        lambda res: (
            named(res, "notebooks-endpoint-ingress")
            .props["metadata"]["annotations"]
            .update({"alb.ingress.kubernetes.io/scheme": "internet-facing"})
        ),
    ),
    "k8s-namespace-isolation": ("dev", lambda res: drop(res, named(res, "team-data-science-default-deny"))),
    "notebook-image-by-digest": (
        "test",
        lambda res: (
            named(res, "notebooks-release")
            .props["values"]["singleuser"]
            .update(image={"name": "quay.io/jupyter/minimal-notebook", "tag": "latest"})
        ),
    ),
    "prod-data-protected": ("prod", lambda res: protect_off(res, "lake-raw-bucket")),
    "force-destroy-sandbox-scratch-only": (
        "dev",
        lambda res: named(res, "access-workspace-bucket").props.update(forceDestroy=True),
    ),
    "mandatory-tags": ("test", lambda res: named(res, "access-role").props["tags"].pop("owner")),
    "sandbox-expiry": ("sandbox", lambda res: named(res, "access-role").props["tags"].pop("expires-at")),
}


def test_every_rule_has_a_crafted_violation():
    assert set(VIOLATIONS) == set(BY_NAME)


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_rule_reports_its_violation(plans, sandbox_plan, name):
    stack, mutate = VIOLATIONS[name]
    res = copy.deepcopy(resources(sandbox_plan if stack == "sandbox" else plans[stack]))
    mutate(res)
    reported = run([BY_NAME[name]], res)
    assert reported, f"{name} did not report the crafted violation"
    others = {r.name for r, _, _ in run(RULES, res)} - {name}
    # decrypting with every key is also a data action on "*"
    assert others <= ({"iam-no-wildcards"} if name == "iam-no-decrypt-all-keys" else set()), others
    for _, message, urn in reported:
        assert urn and message.endswith(".")


def test_unknown_values_during_preview_do_not_crash(plans):
    unknown = sorted(UNKNOWN)[2]
    res = copy.deepcopy(resources(plans["prod"]))
    for r in res:
        for key in ("policy", "tags", "bucket", "versioningConfiguration", "vpcConfig", "metadata", "values"):
            if key in r.props:
                r.props[key] = unknown
    assert isinstance(run(RULES, res), list)
    # nothing unknown: the same rules decide again
    assert run(RULES, resources(plans["prod"])) == []


def test_a_protected_sandbox_resource_is_reported(sandbox_plan):
    res = copy.deepcopy(resources(sandbox_plan))
    protect_on = dataclasses.replace(res[1], opts=dataclasses.replace(res[1].opts, protect=True))
    res[1] = protect_on
    reported = run([BY_NAME["sandbox-expiry"]], res)
    assert [m for _, m, _ in reported] == [
        f"{protect_on.name}: nothing in a sandbox may be protected; remove protect so it can be reaped."
    ]


def test_a_rule_that_rechecks_a_config_rule_names_one_that_exists():
    """A policy rule checks again what config validation refuses only on purpose, naming the
    config rule; if that rule goes or changes its message, this fails so the pair is reviewed."""
    from dataops.plan import ROOT
    from policies.rules import RULES

    rechecking = [r for r in RULES if r.rechecks is not None]
    assert rechecking
    for rule in rechecking:
        module, message = rule.rechecks
        assert message in (ROOT / module).read_text(encoding="utf-8"), f"{rule.name}: {module}: {message!r}"


DASK_LINES = [
    ("MAX_CLUSTERS_PER_USER = ", "MAX_CLUSTERS_PER_USER = 0"),
    ("c.DaskGateway.backend_class = ", "c.DaskGateway.backend_class = KubeBackend"),
    ("c.ClusterConfig.cluster_max_cores = ", "c.ClusterConfig.cluster_max_cores = 0.0"),
    ("c.ClusterConfig.cluster_max_memory = ", "c.ClusterConfig.cluster_max_memory = 0"),
    ("c.ClusterConfig.idle_timeout = ", "c.ClusterConfig.idle_timeout = 0"),
]


@pytest.mark.parametrize(("start", "replacement"), DASK_LINES)
@pytest.mark.parametrize("how", ["removed", "set to nothing"])
def test_a_dask_gateway_without_any_one_limit_is_refused(plans, start, replacement, how):
    """Each of the five limits alone: the four others in place do not make up for it."""
    res = copy.deepcopy(resources(plans["dev"]))

    def edit(code: str) -> str:
        lines = code.splitlines()
        (i,) = [i for i, line in enumerate(lines) if line.startswith(start)]
        if how == "removed":
            del lines[i]
        else:
            lines[i] = replacement
        return "\n".join(lines)

    dask_config(res, edit)
    (found,) = run([BY_NAME["dask-gateway-limits"]], res)
    assert "the Dask gateway lacks" in found[1]


def test_the_dask_rule_judges_only_the_dask_gateway_chart(plans):
    res = copy.deepcopy(resources(plans["dev"]))
    charts = [r for r in res if r.resource_type == "kubernetes:helm.sh/v4:Chart"]
    assert {r.props["chart"] for r in charts} >= {"dask-gateway", "aws-load-balancer-controller"}
    assert run([BY_NAME["dask-gateway-limits"]], res) == []


def rendered_config(code: str) -> Resource:
    """The API server's ConfigMap as a preview shows the chart's rendered objects: the chart's
    own settings first, the extraConfig appended (dask-gateway chart, gateway/configmap.yaml)."""
    chart_part = 'c.DaskGateway.backend_class = "dask_gateway_server.backends.kubernetes.KubeBackend"\n'
    return Resource(
        "kubernetes:core/v1:ConfigMap",
        {"data": {"dask_gateway_config.py": chart_part + code}},
        "urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::jupyterhub/api-dask-gateway",
        "jupyterhub/api-dask-gateway",
        Options(False),
    )


@pytest.mark.parametrize(
    ("appended", "refused"),
    [
        ("limits", False),  # the chart's default backend is overridden by the limits' own
        ("", True),  # the chart alone: no limits at all
        ("limits+idle", True),  # the limits, then the idle timeout set back to never
    ],
)
def test_the_dask_rule_reads_the_rendered_config_a_preview_shows(plans, appended, refused):
    res = resources(plans["dev"])
    extra = named(res, "dask-chart").props["values"]["gateway"]["extraConfig"]
    code = "\n".join(extra[k] for k in sorted(extra)) + "\n"
    text = {"limits": code, "": "", "limits+idle": code + "c.ClusterConfig.idle_timeout = 0\n"}[appended]
    reported = run([BY_NAME["dask-gateway-limits"]], [rendered_config(text)])
    assert bool(reported) is refused, reported
