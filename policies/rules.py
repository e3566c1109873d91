"""The governance rules, as plain functions over a stack's resources.

Each rule is a `Rule`: a kebab-case name, MANDATORY or ADVISORY, a severity, the controls it
implements, and a validator `(resources, report)` that reports one message per violation,
saying how to fix it. The pack entry point (`__main__.py`) wraps them in pulumi-policy objects;
the tests and `python -m dataops policy` run them on offline plans. Every rule is stack-level:
the S3 settings, key, policies and namespaces it joins are separate resources.

Resources only need `resource_type`, `props` (engine property names, camelCase), `urn`, `name`
and `opts.protect` — what pulumi-policy's `PolicyResource` offers. During a preview some values
are unknown; a rule never guesses about them (see `known`).

Control IDs: AWS Foundational Security Best Practices (https://docs.aws.amazon.com/securityhub/
latest/userguide/fsbp-standard.html), CIS Amazon EKS Benchmark v1.5, Checkov policy index
(https://www.checkov.io/5.Policy%20Index/terraform.html), as of 2026-11.
"""

# size: the catalogue of independent rules and their `RULES` table; the Pulumi CLI loads the
# pack from its own folder (pack.py imports `rules` bare), so one module keeps that import simple.

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

try:  # the pack's own venv has pulumi-policy; raising this during preview means "unknown"
    from pulumi_policy.proxy import UnknownValueError
except ImportError:  # pragma: no cover - only without pulumi-policy installed

    class UnknownValueError(Exception):  # type: ignore[no-redef]
        pass


# pulumi-policy's sentinels for values unknown during a preview (pulumi_policy/proxy.py).
UNKNOWN = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
}
# The tags the program puts on every resource (components.config.MANDATORY_TAG_KEYS). A copy, not
# an import: the Pulumi CLI runs the pack in its own virtualenv (no pydantic) with only policies/
# on sys.path (`python -m pulumi.policy <pack dir>`), and `pulumi policy publish` uploads that
# folder alone, so the pack cannot import components/. tests/policies/test_rules.py holds the two
# lists equal; tests/test_dependencies.py holds the pack to its own modules and requirements.
MANDATORY_TAGS = (
    "environment",
    "owner",
    "cost-center",
    "data-classification",
    "project",
    "stack",
    "managed-by",
)
Report = Callable[[str, str | None], None]

BUCKET = "aws:s3/bucket:Bucket"
S3 = "aws:s3/"
KMS_KEY = "aws:kms/key:Key"


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    enforcement: str  # "mandatory" | "advisory"
    severity: str  # "low" | "medium" | "high" | "critical"
    controls: tuple[str, ...]
    validate: Callable[[list[Any], Report], None]
    rechecks: tuple[str, str] | None = None
    """The config rule this rule checks again on purpose, as (its module, its message): config
    validation refuses the setting, and this rule catches resources that do not honour it
    whatever produced them (a changed component, or a program run without the config model)."""


class Unknown(Exception):
    """A value a rule needs is not known yet (preview): the rule cannot decide, so it is silent."""


def known(value: Any) -> Any:
    if isinstance(value, str) and value in UNKNOWN:
        raise Unknown
    return value


def of_type(resources: Iterable[Any], *types: str) -> list[Any]:
    return [r for r in resources if r.resource_type in types]


def prop(r: Any, *path: str | int, default: Any = None) -> Any:
    value: Any = r.props
    for key in path:
        try:
            value = known(value)[key]
        except (KeyError, IndexError, TypeError):
            return default
    return known(value)


def document(r: Any, key: str = "policy") -> dict[str, Any]:
    text = prop(r, key)
    if isinstance(text, dict):
        return text
    return json.loads(text) if text else {}


def as_list(value: Any) -> list[Any]:
    """A policy element as a list: IAM takes one value or a list; absent is none."""
    return value if isinstance(value, list) else [] if value is None else [value]


def environment(resources: list[Any]) -> str | None:
    """The stack's environment, from the mandatory `environment` tag its resources carry."""
    for r in resources:
        env = prop(r, "tags", "environment")
        if env:
            return env
    return None


def settings(resources: list[Any], bucket: Any, type_name: str) -> list[Any]:
    """The separate settings resources (pulumi-aws 7) joined to `bucket` by its name."""
    name = prop(bucket, "bucket")
    return [r for r in of_type(resources, S3 + type_name) if prop(r, "bucket") == name]


def log_targets(resources: list[Any]) -> set[str]:
    """Access-log buckets: logging targets, and buckets tagged for that purpose."""
    targets = {prop(r, "targetBucket") for r in of_type(resources, S3 + "bucketLogging:BucketLogging")}
    return targets | {
        prop(b, "bucket") for b in of_type(resources, BUCKET) if prop(b, "tags", "purpose") == "access-logs"
    }


# -- S3 --------------------------------------------------------------------------------------


def s3_public_access_block_validator(resources: list[Any], report: Report) -> None:
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in of_type(resources, BUCKET):
        blocks = settings(resources, bucket, "bucketPublicAccessBlock:BucketPublicAccessBlock")
        if not blocks or any(prop(blocks[0], f) is not True for f in flags):
            report(
                f"{bucket.name}: turn on all four public-access-block flags ({', '.join(flags)}).", bucket.urn
            )


def s3_kms_encryption_validator(resources: list[Any], report: Report) -> None:
    log_buckets = log_targets(resources)
    for bucket in of_type(resources, BUCKET):
        configs = settings(
            resources,
            bucket,
            "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
        rule = prop(configs[0], "rules", 0, default={}) if configs else {}
        default = rule.get("applyServerSideEncryptionByDefault", {})
        if prop(bucket, "bucket") in log_buckets:
            # S3 delivers access logs only into SSE-S3 buckets; encryption must still be on.
            if default.get("sseAlgorithm") not in ("AES256", "aws:kms"):
                report(
                    f"{bucket.name}: set default encryption (SSE-S3 for an access-log bucket).", bucket.urn
                )
            continue
        key = default.get("kmsMasterKeyId")
        # alias/aws/s3 is the AWS-managed key: its policy cannot be governed here.
        if default.get("sseAlgorithm") != "aws:kms" or not key or "alias/aws/" in str(key):
            report(f"{bucket.name}: default-encrypt with SSE-KMS and a customer-managed key.", bucket.urn)
        elif rule.get("bucketKeyEnabled") is not True:
            report(f"{bucket.name}: enable the S3 bucket key (bucketKeyEnabled: true).", bucket.urn)


def _denies_insecure_transport(doc: dict[str, Any]) -> bool:
    for s in doc.get("Statement", []):
        if (
            s.get("Effect") == "Deny"
            and s.get("Principal") in ("*", {"AWS": "*"})
            and "s3:*" in as_list(s.get("Action"))
            and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
        ):
            return True
    return False


def s3_deny_insecure_transport_validator(resources: list[Any], report: Report) -> None:
    for bucket in of_type(resources, BUCKET):
        policies = settings(resources, bucket, "bucketPolicy:BucketPolicy")
        if not policies or not _denies_insecure_transport(document(policies[0])):
            report(
                f"{bucket.name}: add a bucket policy denying s3:* when aws:SecureTransport is false.",
                bucket.urn,
            )


def s3_ownership_enforced_validator(resources: list[Any], report: Report) -> None:
    for bucket in of_type(resources, BUCKET):
        controls = settings(resources, bucket, "bucketOwnershipControls:BucketOwnershipControls")
        if not controls or prop(controls[0], "rule", "objectOwnership") != "BucketOwnerEnforced":
            report(f"{bucket.name}: disable ACLs with object ownership BucketOwnerEnforced.", bucket.urn)


def s3_versioning_validator(resources: list[Any], report: Report) -> None:
    for bucket in of_type(resources, BUCKET):
        versioning = settings(resources, bucket, "bucketVersioning:BucketVersioning")
        if not versioning or prop(versioning[0], "versioningConfiguration", "status") != "Enabled":
            report(f"{bucket.name}: enable versioning.", bucket.urn)


def s3_access_logging_validator(resources: list[Any], report: Report) -> None:
    targets = log_targets(resources)
    for bucket in of_type(resources, BUCKET):
        if prop(bucket, "bucket") in targets:
            continue  # the log bucket does not log into itself
        if not settings(resources, bucket, "bucketLogging:BucketLogging"):
            report(f"{bucket.name}: send server access logs to the lake's access-log bucket.", bucket.urn)


def s3_lifecycle_abort_multipart_validator(resources: list[Any], report: Report) -> None:
    for bucket in of_type(resources, BUCKET):
        configs = settings(resources, bucket, "bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        rules = prop(configs[0], "rules", default=[]) if configs else []
        if not any(
            known(r).get("abortIncompleteMultipartUpload", {}).get("daysAfterInitiation") for r in rules
        ):
            report(
                f"{bucket.name}: add a lifecycle rule that aborts incomplete multipart uploads.", bucket.urn
            )


def s3_object_lock_in_prod_validator(resources: list[Any], report: Report) -> None:
    if environment(resources) != "prod":
        return
    for bucket in of_type(resources, BUCKET):
        if prop(bucket, "tags", "zone") in (None, "workspace"):
            continue  # only lake zone buckets hold the records object lock protects
        locks = settings(resources, bucket, "bucketObjectLockConfiguration:BucketObjectLockConfiguration")
        if prop(bucket, "objectLockEnabled") is not True or not locks:
            report(f"{bucket.name}: prod lake zones need object lock (set lake.objectLock).", bucket.urn)


# -- KMS and IAM -----------------------------------------------------------------------------


def kms_key_rotation_validator(resources: list[Any], report: Report) -> None:
    for key in of_type(resources, KMS_KEY):
        if prop(key, "enableKeyRotation") is not True:
            report(f"{key.name}: enable automatic key rotation (enableKeyRotation: true).", key.urn)


IDENTITY_POLICIES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
DATA_SERVICES = ("s3:", "kms:", "glue:")


def _allows(s: dict[str, Any], action: str) -> bool:
    """Whether a statement allows `action`: IAM matches action names case-insensitively, with `*`
    and `?` wildcards, and a NotAction allows every action it does not list."""
    if s.get("Effect") != "Allow":
        return False
    listed = "NotAction" if "NotAction" in s else "Action"
    matched = any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in as_list(s.get(listed)))
    return matched != (listed == "NotAction")


def _every_key(s: dict[str, Any]) -> bool:
    """Whether a statement applies to every KMS key: `*`, `...:key/*`, an ARN whose resource
    part is `*`, or a NotResource (every resource but those listed)."""
    if "NotResource" in s:
        return True
    targets = [str(t) for t in as_list(s.get("Resource"))]
    return any(t.endswith(":key/*") or t.split(":")[-1] == "*" for t in targets)  # `*` included


def iam_no_wildcards_validator(resources: list[Any], report: Report) -> None:
    for r in of_type(resources, *IDENTITY_POLICIES):
        for s in document(r).get("Statement", []):
            if s.get("Effect") != "Allow":
                continue
            if "NotAction" in s:  # allows every action but those listed
                report(f"{r.name}: list the actions needed instead of NotAction {s['NotAction']}.", r.urn)
                continue
            actions = [str(a) for a in as_list(s.get("Action"))]
            targets = [str(t) for t in as_list(s.get("Resource"))]
            if any(a == "*" or a.endswith(":*") for a in actions):
                report(f"{r.name}: list the actions needed instead of {actions}.", r.urn)
            elif ("*" in targets or "NotResource" in s) and any(
                a.lower().startswith(DATA_SERVICES) for a in actions
            ):
                report(f"{r.name}: scope data actions to bucket, prefix and key ARNs instead of '*'.", r.urn)


def iam_no_decrypt_all_keys_validator(resources: list[Any], report: Report) -> None:
    for r in of_type(resources, *IDENTITY_POLICIES):
        for s in document(r).get("Statement", []):
            if _allows(s, "kms:Decrypt") and _every_key(s):
                report(f"{r.name}: allow kms:Decrypt on the lake key's ARN only, not on every key.", r.urn)


# EKS Pod Identity sets these session tags on every role assumption it makes for a pod
# (https://docs.aws.amazon.com/eks/latest/userguide/pod-id-abac.html); a trust policy without
# them lets any pod of any cluster in the account that is associated with the role assume it.
POD_IDENTITY_TAGS = {
    # the ARN, not the name: names repeat across regions and accounts
    "cluster": ("aws:RequestTag/eks-cluster-arn",),
    "namespace": ("aws:RequestTag/kubernetes-namespace",),
    "service account": ("aws:RequestTag/kubernetes-service-account",),
}


def pod_identity_trust_scoped_validator(resources: list[Any], report: Report) -> None:
    for role in of_type(resources, "aws:iam/role:Role"):
        for s in document(role, "assumeRolePolicy").get("Statement", []):
            services = (
                as_list((s.get("Principal") or {}).get("Service"))
                if isinstance(s.get("Principal"), dict)
                else []
            )
            if s.get("Effect") != "Allow" or "pods.eks.amazonaws.com" not in services:
                continue
            actions = {str(a) for a in as_list(s.get("Action"))}
            if "sts:TagSession" not in actions:
                report(
                    f"{role.name}: allow sts:TagSession so EKS can set the session tags it is scoped by.",
                    role.urn,
                )
            exact = {
                key: values
                for operator in ("StringEquals", "ArnEquals")
                for key, values in (s.get("Condition") or {}).get(operator, {}).items()
            }
            for what, keys in POD_IDENTITY_TAGS.items():
                values = [str(v) for key in keys if key in exact for v in as_list(exact[key])]
                if not values or any("*" in v or "?" in v for v in values):
                    report(
                        f"{role.name}: scope the Pod Identity trust to its {what} with StringEquals on "
                        f"{keys[0]} (exact values).",
                        role.urn,
                    )


# -- ECR, EKS, EC2 ---------------------------------------------------------------------------


def ecr_repository_validator(resources: list[Any], report: Report) -> None:
    for repo in of_type(resources, "aws:ecr/repository:Repository"):
        if prop(repo, "imageScanningConfiguration", "scanOnPush") is not True:
            report(f"{repo.name}: scan images on push.", repo.urn)
        if prop(repo, "imageTagMutability") != "IMMUTABLE":
            report(f"{repo.name}: make tags IMMUTABLE so a promoted tag can never change.", repo.urn)
        if prop(repo, "encryptionConfigurations", 0, "encryptionType") != "KMS":
            report(f"{repo.name}: encrypt the repository with a KMS key.", repo.urn)


def eks_private_endpoint_validator(resources: list[Any], report: Report) -> None:
    prod = environment(resources) == "prod"
    for cluster in of_type(resources, "aws:eks/cluster:Cluster"):
        public = prop(cluster, "vpcConfig", "endpointPublicAccess")  # unset is public, EKS's default
        cidrs = prop(cluster, "vpcConfig", "publicAccessCidrs") or ["0.0.0.0/0"]
        if prop(cluster, "vpcConfig", "endpointPrivateAccess") is not True:
            report(f"{cluster.name}: turn on the private API endpoint.", cluster.urn)
        if prod and public is not False:
            report(
                f"{cluster.name}: prod's API endpoint must not be public (endpointPublicAccess: false).",
                cluster.urn,
            )
        elif public is not False and "0.0.0.0/0" in cidrs:
            report(
                f"{cluster.name}: limit the public endpoint to listed CIDRs (cluster.publicAccessCidrs).",
                cluster.urn,
            )


def eks_api_reachable_validator(resources: list[Any], report: Report) -> None:
    """A private-only endpoint is reached through the security groups on its network
    interfaces: without a 443 rule into one of them nothing can deploy to the cluster."""
    rules = of_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    for cluster in of_type(resources, "aws:eks/cluster:Cluster"):
        if prop(cluster, "vpcConfig", "endpointPublicAccess") is not False:  # unset is public
            continue
        groups = set(prop(cluster, "vpcConfig", "securityGroupIds") or [])
        if not any(
            prop(r, "securityGroupId") in groups
            and (
                prop(r, "ipProtocol") == "-1"
                or (
                    prop(r, "ipProtocol") == "tcp"
                    and (prop(r, "fromPort") or 0) <= 443 <= (prop(r, "toPort") or 0)
                )
            )
            for r in rules
        ):
            report(
                f"{cluster.name}: admit 443 into the API security group from the stack's runner "
                "(ci.runner) or cluster.privateAccessCidrs; nothing could reach the private endpoint.",
                cluster.urn,
            )


def eks_secrets_encryption_validator(resources: list[Any], report: Report) -> None:
    for cluster in of_type(resources, "aws:eks/cluster:Cluster"):
        config = prop(cluster, "encryptionConfig") or {}
        if "secrets" not in (config.get("resources") or []) or not config.get("provider", {}).get("keyArn"):
            report(
                f"{cluster.name}: encrypt Kubernetes secrets with a customer-managed KMS key.", cluster.urn
            )


def eks_control_plane_logs_validator(resources: list[Any], report: Report) -> None:
    wanted = {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    prod = environment(resources) == "prod"
    for cluster in of_type(resources, "aws:eks/cluster:Cluster"):
        enabled = set(prop(cluster, "enabledClusterLogTypes") or [])
        if "audit" not in enabled or (prod and not wanted <= enabled):
            report(
                f"{cluster.name}: enable control-plane logs ({'all types' if prod else 'at least audit'}).",
                cluster.urn,
            )


def imdsv2_hop_limit_validator(resources: list[Any], report: Report) -> None:
    for template in of_type(resources, "aws:ec2/launchTemplate:LaunchTemplate"):
        options = prop(template, "metadataOptions") or {}
        if options.get("httpTokens") != "required" or options.get("httpPutResponseHopLimit") != 1:
            report(f"{template.name}: require IMDSv2 (httpTokens: required) with hop limit 1.", template.urn)


# -- Kubernetes ------------------------------------------------------------------------------

NAMESPACE = "kubernetes:core/v1:Namespace"


def team_namespaces(resources: list[Any]) -> list[Any]:
    return [ns for ns in of_type(resources, NAMESPACE) if prop(ns, "metadata", "labels", "dataops.io/team")]


# Namespaces that may run below `restricted`, each with the reason: the policy engine's operator
# runs with hostNetwork and a hostPath volume (components/cluster/policy_engine.py).
PRIVILEGED_NAMESPACES = {"tigera-operator": "Calico's operator needs hostNetwork and a hostPath volume"}


def k8s_pod_security_validator(resources: list[Any], report: Report) -> None:
    for ns in of_type(resources, NAMESPACE):
        labels = prop(ns, "metadata", "labels") or {}
        name = prop(ns, "metadata", "name")
        if name in PRIVILEGED_NAMESPACES:
            continue
        if labels.get("pod-security.kubernetes.io/enforce") != "restricted":
            report(f"namespace {name}: label pod-security.kubernetes.io/enforce=restricted.", ns.urn)


def hub_not_open_to_the_internet_validator(resources: list[Any], report: Report) -> None:
    """Prod's load balancers: internal, or internet-facing for listed source ranges only."""
    if environment(resources) != "prod":
        return
    for ingress in of_type(resources, "kubernetes:networking.k8s.io/v1:Ingress"):
        annotations = prop(ingress, "metadata", "annotations") or {}
        # unset is internal, the load balancer controller's default
        if annotations.get("alb.ingress.kubernetes.io/scheme") != "internet-facing":
            continue
        cidrs = [
            c.strip() for c in str(annotations.get("alb.ingress.kubernetes.io/inbound-cidrs", "")).split(",")
        ]
        if not any(cidrs) or any(c.endswith("/0") for c in cidrs):
            report(
                f"{ingress.name}: prod's hub is internet-facing for everyone; list notebooks.allowedCidrs "
                "or keep notebooks.scheme internal.",
                ingress.urn,
            )


def k8s_namespace_isolation_validator(resources: list[Any], report: Report) -> None:
    for ns in team_namespaces(resources):
        name = prop(ns, "metadata", "name")
        within = [r for r in resources if prop(r, "metadata", "namespace") == name]
        deny = [
            p
            for p in within
            if p.resource_type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
            and prop(p, "spec", "podSelector") == {}
            and sorted(prop(p, "spec", "policyTypes") or []) == ["Egress", "Ingress"]
            and not prop(p, "spec", "ingress")
            and not prop(p, "spec", "egress")
        ]
        if not deny:
            report(
                f"namespace {name}: add a default-deny NetworkPolicy (all pods, Ingress and Egress).", ns.urn
            )
        if not [q for q in within if q.resource_type == "kubernetes:core/v1:ResourceQuota"]:
            report(f"namespace {name}: add a ResourceQuota (teams[].quota).", ns.urn)


def notebook_image_by_digest_validator(resources: list[Any], report: Report) -> None:
    for release in of_type(resources, "kubernetes:helm.sh/v3:Release"):
        image = prop(release, "values", "singleuser", "image")
        if image is None:
            continue
        name, tag = str(image.get("name", "")), str(image.get("tag", ""))
        if not (name.endswith("@sha256") and len(tag) == 64):
            report(
                f"{release.name}: reference the notebook image by digest (name repo@sha256, tag <hex>), "
                f"not {name}:{tag}.",
                release.urn,
            )


# What a Dask gateway's configuration (the chart's `gateway.extraConfig`, as
# components/dask_gateway.py writes it) must set: dask-gateway has no per-user limits of its own
# and no idle timeout by default (dask-gateway-server 2026.3.0, ClusterConfig.idle_timeout = 0).
DASK_LIMITS = {
    "a per-user cluster cap": re.compile(r"^MAX_CLUSTERS_PER_USER = [1-9]\d*$", re.M),
    "the backend that enforces it": re.compile(
        r"^c\.DaskGateway\.backend_class = limit_clusters_per_user\(", re.M
    ),
    "a per-cluster core cap": re.compile(
        r"^c\.ClusterConfig\.cluster_max_cores = (?!0+(\.0*)?$)\d+(\.\d*)?$", re.M
    ),
    "a per-cluster memory cap": re.compile(r"^c\.ClusterConfig\.cluster_max_memory = [1-9]\d*$", re.M),
    "an idle timeout": re.compile(r"^c\.ClusterConfig\.idle_timeout = [1-9]\d*$", re.M),
}


def dask_gateway_configs(resources: list[Any]) -> list[tuple[Any, str]]:
    """(resource, the gateway API server's configuration code) for each Dask gateway: the chart's
    `gateway.extraConfig` (offline plan), or the rendered ConfigMap the API server reads (a
    preview shows the chart's objects; the chart appends extraConfig to this file)."""
    out = []
    for chart in of_type(resources, "kubernetes:helm.sh/v4:Chart"):
        if prop(chart, "chart") == "dask-gateway":
            extra = known(prop(chart, "values", "gateway", "extraConfig"))
            # the chart runs a mapping's blocks in the order of their keys
            blocks = [str(extra[k]) for k in sorted(extra)] if isinstance(extra, dict) else [str(extra or "")]
            out.append((chart, "\n".join(blocks)))
    for config in of_type(resources, "kubernetes:core/v1:ConfigMap"):
        code = known(prop(config, "data", "dask_gateway_config.py"))
        # the API server's configuration (the controller's sets no backend)
        if isinstance(code, str) and "c.DaskGateway.backend_class" in code:
            out.append((config, code))
    return out


def dask_gateway_limits_validator(resources: list[Any], report: Report) -> None:
    for resource, code in dask_gateway_configs(resources):
        # A later assignment wins in Python: the limits are judged on the code's last word.
        missing = [
            what for what, pattern in DASK_LIMITS.items() if not pattern.search(_last_assignments(code))
        ]
        if missing:
            report(
                f"{resource.name}: the Dask gateway lacks {', '.join(missing)}; users could hold the "
                "cluster's nodes without bound (notebooks.dask).",
                resource.urn,
            )


# A top-level assignment's (first) target: `name =` or `a.b.c =`, however spaced, not `==`.
ASSIGNMENT = re.compile(r"^([A-Za-z_][\w.]*)\s*=(?!=)")


def _last_assignments(code: str) -> str:
    """The code with only the last top-level assignment to each name kept."""
    seen: set[str] = set()
    kept = []
    for line in reversed(code.splitlines()):
        if target := ASSIGNMENT.match(line):
            if target[1] in seen:
                continue
            seen.add(target[1])
        kept.append(line)
    return "\n".join(reversed(kept))


# -- Teardown and tags -----------------------------------------------------------------------


def prod_data_protected_validator(resources: list[Any], report: Report) -> None:
    if environment(resources) != "prod":
        return
    for r in of_type(resources, BUCKET, KMS_KEY, "aws:eks/cluster:Cluster"):
        if not r.opts.protect:
            report(f"{r.name}: protect prod data and keys (deletionProtection: true).", r.urn)


def force_destroy_sandbox_scratch_only_validator(resources: list[Any], report: Report) -> None:
    sandbox = environment(resources) == "sandbox"
    for r in of_type(resources, BUCKET, "aws:ecr/repository:Repository"):
        forced = prop(r, "forceDestroy") is True or prop(r, "forceDelete") is True
        scratch = (sandbox and prop(r, "tags", "zone") == "workspace") or (
            sandbox and r.resource_type.startswith("aws:ecr/")
        )
        if forced and not scratch:
            report(
                f"{r.name}: only sandbox scratch storage may be force-destroyed; remove forceDestroy.", r.urn
            )


TAGGABLE = (
    BUCKET,
    KMS_KEY,
    "aws:iam/role:Role",
    "aws:glue/catalogDatabase:CatalogDatabase",
    "aws:eks/cluster:Cluster",
    "aws:ecr/repository:Repository",
    "aws:ec2/vpc:Vpc",
)


def mandatory_tags_validator(resources: list[Any], report: Report) -> None:
    for r in of_type(resources, *TAGGABLE):
        tags = prop(r, "tags") or {}
        missing = [t for t in MANDATORY_TAGS if not tags.get(t)]
        if missing:
            report(f"{r.name}: add the tags {', '.join(missing)}.", r.urn)


SANDBOX_TAGS = ("owner", "created-at", "expires-at")


def sandbox_expiry_validator(resources: list[Any], report: Report) -> None:
    """The reaper finds a sandbox's owner and expiry on its resources, and destroys nothing protected."""
    if environment(resources) != "sandbox":
        return
    for r in of_type(resources, *TAGGABLE):
        tags = prop(r, "tags") or {}
        missing = [t for t in SANDBOX_TAGS if not tags.get(t)]
        if missing:
            report(
                f"{r.name}: a sandbox resource needs the tags {', '.join(missing)}, so it can be reaped.",
                r.urn,
            )
    for r in resources:
        if r.opts.protect:
            report(
                f"{r.name}: nothing in a sandbox may be protected; remove protect so it can be reaped.", r.urn
            )


RULES: tuple[Rule, ...] = (
    Rule(
        "s3-public-access-block",
        "Buckets block every form of public access.",
        "mandatory",
        "high",
        ("FSBP S3.8", "CKV2_AWS_6"),
        s3_public_access_block_validator,
    ),
    Rule(
        "s3-kms-encryption",
        "Data buckets default to SSE-KMS with a customer-managed key and a bucket key.",
        "mandatory",
        "high",
        ("FSBP S3.17", "CKV_AWS_145"),
        s3_kms_encryption_validator,
    ),
    Rule(
        "s3-deny-insecure-transport",
        "Bucket policies refuse requests without TLS.",
        "mandatory",
        "high",
        ("FSBP S3.5",),
        s3_deny_insecure_transport_validator,
    ),
    Rule(
        "s3-ownership-enforced",
        "ACLs are disabled (BucketOwnerEnforced).",
        "mandatory",
        "medium",
        ("FSBP S3.12", "CKV2_AWS_65"),
        s3_ownership_enforced_validator,
    ),
    Rule(
        "s3-versioning",
        "Buckets keep object versions.",
        "mandatory",
        "medium",
        ("FSBP S3.14", "CKV_AWS_21"),
        s3_versioning_validator,
    ),
    Rule(
        "s3-access-logging",
        "Buckets deliver server access logs.",
        "mandatory",
        "medium",
        ("FSBP S3.9", "CKV_AWS_18"),
        s3_access_logging_validator,
    ),
    Rule(
        "s3-lifecycle-abort-multipart",
        "Lifecycle rules abort incomplete multipart uploads.",
        "mandatory",
        "low",
        ("FSBP S3.13", "CKV_AWS_300"),
        s3_lifecycle_abort_multipart_validator,
    ),
    Rule(
        "s3-object-lock-prod",
        "Prod lake zones use object lock.",
        "mandatory",
        "high",
        ("FSBP S3.15",),
        s3_object_lock_in_prod_validator,
    ),
    Rule(
        "kms-key-rotation",
        "Customer-managed keys rotate.",
        "mandatory",
        "medium",
        ("FSBP KMS.4", "CKV_AWS_7"),
        kms_key_rotation_validator,
    ),
    Rule(
        "iam-no-wildcards",
        "Identity policies name their actions and scope data access.",
        "mandatory",
        "high",
        ("FSBP IAM.1", "FSBP IAM.21"),
        iam_no_wildcards_validator,
    ),
    Rule(
        "iam-no-decrypt-all-keys",
        "Identity policies never decrypt with every KMS key.",
        "mandatory",
        "high",
        ("FSBP KMS.1", "FSBP KMS.2"),
        iam_no_decrypt_all_keys_validator,
    ),
    Rule(
        "pod-identity-trust-scoped",
        "Roles trusted through EKS Pod Identity name their cluster, namespaces and service accounts.",
        "mandatory",
        "high",
        (),
        pod_identity_trust_scoped_validator,
    ),
    Rule(
        "ecr-repository-hardened",
        "ECR repositories scan on push, keep tags immutable, encrypt with KMS.",
        "mandatory",
        "medium",
        ("FSBP ECR.1", "FSBP ECR.2", "CKV_AWS_163", "CKV_AWS_51", "CKV_AWS_136"),
        ecr_repository_validator,
    ),
    Rule(
        "eks-private-endpoint",
        "The EKS API endpoint is private (never public in prod).",
        "mandatory",
        "high",
        ("FSBP EKS.1", "CIS EKS 5.4.2", "CKV_AWS_39", "CKV_AWS_38"),
        eks_private_endpoint_validator,
        rechecks=("components/config/rules/cluster.py", "prod's API endpoint is private only"),
    ),
    Rule(
        "eks-api-reachable",
        "A private EKS endpoint admits 443 from the stack's runner (or listed private ranges).",
        "mandatory",
        "high",
        (),
        eks_api_reachable_validator,
        rechecks=("components/config/rules/ci.py", "nothing could reach the cluster's private API endpoint"),
    ),
    Rule(
        "eks-secrets-encryption",
        "EKS encrypts Kubernetes secrets with a customer-managed key.",
        "mandatory",
        "high",
        ("FSBP EKS.3", "CIS EKS 5.3.1", "CKV_AWS_58"),
        eks_secrets_encryption_validator,
    ),
    Rule(
        "eks-control-plane-logs",
        "EKS records control-plane logs (all types in prod).",
        "mandatory",
        "medium",
        ("FSBP EKS.8", "CIS EKS 2.1.1", "CKV_AWS_37"),
        eks_control_plane_logs_validator,
        rechecks=("components/config/rules/cluster.py", "prod records every control-plane log type"),
    ),
    Rule(
        "imdsv2-hop-limit-1",
        "Nodes require IMDSv2 with a hop limit of 1.",
        "mandatory",
        "high",
        ("FSBP EC2.8", "CKV_AWS_79", "CKV_AWS_341"),
        imdsv2_hop_limit_validator,
    ),
    Rule(
        "k8s-pod-security",
        "Every namespace enforces Pod Security restricted, but the policy engine's operator's.",
        "mandatory",
        "high",
        ("CIS EKS 4.2",),
        k8s_pod_security_validator,
    ),
    Rule(
        "hub-not-open-to-the-internet",
        "Prod's hub load balancer is internal, or internet-facing for listed source ranges only.",
        "mandatory",
        "high",
        (),
        hub_not_open_to_the_internet_validator,
        rechecks=("components/config/rules/notebooks.py", "prod's hub would be open to the whole internet"),
    ),
    Rule(
        "k8s-namespace-isolation",
        "Team namespaces have a default-deny NetworkPolicy and a ResourceQuota.",
        "mandatory",
        "medium",
        ("CIS EKS 4.3.2",),
        k8s_namespace_isolation_validator,
    ),
    Rule(
        "notebook-image-by-digest",
        "The hub runs the notebook image by digest.",
        "mandatory",
        "medium",
        (),
        notebook_image_by_digest_validator,
        rechecks=("components/config/rules/image.py", "not an immutable digest"),
    ),
    Rule(
        "dask-gateway-limits",
        "A Dask gateway caps each user's clusters and their size, and stops idle clusters.",
        "mandatory",
        "medium",
        (),
        dask_gateway_limits_validator,
    ),
    Rule(
        "prod-data-protected",
        "Prod buckets, keys and the cluster are protected from deletion.",
        "mandatory",
        "critical",
        (),
        prod_data_protected_validator,
        rechecks=("components/config/rules/__init__.py", "prod must protect its data and keys"),
    ),
    Rule(
        "force-destroy-sandbox-scratch-only",
        "Only sandbox scratch storage may be force-destroyed.",
        "mandatory",
        "critical",
        (),
        force_destroy_sandbox_scratch_only_validator,
        rechecks=(
            "components/config/rules/__init__.py",
            "only sandbox scratch storage may be force-destroyed",
        ),
    ),
    Rule(
        "sandbox-expiry",
        "Sandbox resources carry owner, created-at and expires-at tags, and none is protected.",
        "mandatory",
        "medium",
        (),
        sandbox_expiry_validator,
        rechecks=("components/config/rules/sandbox.py", "nothing in a sandbox is protected"),
    ),
    Rule(
        "mandatory-tags",
        f"Resources carry {', '.join(MANDATORY_TAGS[:-1])} and {MANDATORY_TAGS[-1]} tags.",
        "advisory",
        "low",
        (),
        mandatory_tags_validator,
    ),
)


# The `local` stack's endpoint cannot honour these (components/local_endpoint.py UNSUPPORTED,
# rule -> feature); the stack skips them with a warning, so the rules do not apply there.
LOCAL_EXEMPT = {
    "s3-access-logging": "access-logging",
    "s3-lifecycle-abort-multipart": "lifecycle",
    "s3-deny-insecure-transport": "bucket-policy",
}


def run(rules: Iterable[Rule], resources: list[Any]) -> list[tuple[Rule, str, str | None]]:
    """Run rules; a rule that meets an unknown value stays silent (it cannot decide in a preview)."""
    found: list[tuple[Rule, str, str | None]] = []
    try:
        local = environment(resources) == "local"
    except Unknown:
        local = False
    for rule in rules:
        if local and rule.name in LOCAL_EXEMPT:
            continue
        batch: list[tuple[Rule, str, str | None]] = []
        try:
            rule.validate(resources, lambda message, urn=None, r=rule, b=batch: b.append((r, message, urn)))
        except (Unknown, UnknownValueError):
            continue
        found += batch
    return found
