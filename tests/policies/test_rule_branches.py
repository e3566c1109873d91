"""Each policy rule in each of its branches, on a few crafted resources: a compliant case, each
way to break it, and the half-wrong cases (one of two conditions met) that must be judged by
both. `run()` itself: it keeps every rule's findings, and runs the rules that need no
environment when the environment is not known yet (a preview).

No plan is built here: the resources are what pulumi-policy shows the pack (dataops.policy's
`Resource`), written out for each case, so a rule's branch is named by the row that reaches it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dataops.policy import Options, Resource
from policies.rules import IDENTITY_POLICIES, MANDATORY_TAGS, RULES, UNKNOWN, Rule, UnknownValueError, run

BY_NAME = {r.name: r for r in RULES}
UNKNOWN_VALUE = sorted(UNKNOWN)[0]
BUCKET = "aws:s3/bucket:Bucket"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"


def res(type_: str, props: dict[str, Any], name: str = "r", protect: bool = False) -> Resource:
    return Resource(
        type_, props, f"urn:pulumi:dev::dataops-platform::{type_}::{name}", name, Options(protect)
    )


def policy_text(*statements: dict[str, Any]) -> str:
    """An IAM policy document with these statements, as the JSON text a policy input holds."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def env(environment: str) -> Resource:
    """A resource that only carries the stack's environment tag (rules read it from any)."""
    return res("aws:s3/bucketVersioning:BucketVersioning", {"tags": {"environment": environment}}, "marker")


def messages(rule: str, resources: list[Resource]) -> list[str]:
    """The rule's messages. Each finding is reported on one of `resources` and its message begins
    with that resource's name (a namespace's, its Kubernetes name): the one a user has to fix."""
    by_urn = {r.urn: r for r in resources}
    found = []
    for _, message, urn in run([BY_NAME[rule]], resources):
        assert urn in by_urn, (message, urn)
        subject = by_urn[urn]
        names = (f"{subject.name}: ", f"namespace {(subject.props.get('metadata') or {}).get('name')}: ")
        assert message.startswith(names), (message, subject.name)
        found.append(message)
    return found


def check(rule: str, resources: list[Resource], expected: list[str]) -> None:
    """The rule reports exactly one message per expected fragment, in order."""
    found = messages(rule, resources)
    assert len(found) == len(expected), found
    for fragment, message in zip(expected, found, strict=True):
        assert fragment in message, (fragment, message)


# -- S3: a compliant bucket, and each of its settings changed -------------------------------


def setting(kind: str, bucket: str, **props: Any) -> Resource:
    return res(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}", {"bucket": bucket, **props}, f"{bucket}-{kind}")


DROP = object()  # a change that leaves the element out


def deny_insecure(**changes: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    } | changes
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in statement.items() if v is not DROP}]}


def bucket(name: str = "b", tags: dict[str, str] | None = None, **drop_or_change: Any) -> list[Resource]:
    """A bucket that passes every S3 rule, with its settings; `Kind=None` drops a setting,
    `Kind={...}` changes its properties."""
    parts: dict[str, dict[str, Any]] = {
        "BucketPublicAccessBlock": dict.fromkeys(
            ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True
        ),
        "BucketServerSideEncryptionConfiguration": {
            "rules": [
                {
                    "applyServerSideEncryptionByDefault": {
                        "sseAlgorithm": "aws:kms",
                        "kmsMasterKeyId": KEY_ARN,
                    },
                    "bucketKeyEnabled": True,
                }
            ]
        },
        "BucketPolicy": {"policy": json.dumps(deny_insecure())},
        "BucketOwnershipControls": {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        "BucketVersioning": {"versioningConfiguration": {"status": "Enabled"}},
        "BucketLogging": {"targetBucket": "logs"},
        "BucketLifecycleConfiguration": {
            "rules": [{"id": "abort", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]
        },
    }
    for kind, change in drop_or_change.items():
        if change is None:
            parts.pop(kind)
        else:
            parts[kind] = change
    return [
        res(BUCKET, {"bucket": name, "tags": {"environment": "dev", **(tags or {})}}, name),
        *(setting(kind, name, **props) for kind, props in parts.items()),
    ]


def sse(algorithm: str | None, key: str | None = None, bucket_key: bool = True) -> dict[str, Any]:
    default = {k: v for k, v in (("sseAlgorithm", algorithm), ("kmsMasterKeyId", key)) if v}
    return {"rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": bucket_key}]}


S3_RULES = sorted(n for n in BY_NAME if n.startswith("s3-"))


def test_a_compliant_bucket_passes_every_s3_rule():
    assert run([BY_NAME[n] for n in S3_RULES], bucket()) == []


def test_run_keeps_every_rules_findings():
    """A bare bucket breaks seven S3 rules at once: each one's finding is in the result, none
    replaced by the next rule's (the command and the pack report them all)."""
    bare = [res(BUCKET, {"bucket": "b", "tags": {"environment": "dev"}}, "b")]
    found = sorted((rule.name, message) for rule, message, _ in run(RULES, bare))
    assert found == sorted(
        [
            (
                "s3-public-access-block",
                "b: turn on all four public-access-block flags (blockPublicAcls, "
                "blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets).",
            ),
            ("s3-kms-encryption", "b: default-encrypt with SSE-KMS and a customer-managed key."),
            (
                "s3-deny-insecure-transport",
                "b: add a bucket policy denying s3:* when aws:SecureTransport is false.",
            ),
            ("s3-ownership-enforced", "b: disable ACLs with object ownership BucketOwnerEnforced."),
            ("s3-versioning", "b: enable versioning."),
            ("s3-access-logging", "b: send server access logs to the lake's access-log bucket."),
            (
                "s3-lifecycle-abort-multipart",
                "b: add a lifecycle rule that aborts incomplete multipart uploads.",
            ),
            (
                "mandatory-tags",
                "b: add the tags " + ", ".join(t for t in MANDATORY_TAGS if t != "environment") + ".",
            ),
        ]
    )


def test_rules_that_need_no_environment_run_when_it_is_unknown():
    """In a preview the environment tag may be unknown: the rules that do not depend on it still
    decide (not skipped as if the stack were `local`), deny-insecure-transport among them."""
    bare = [res(BUCKET, {"bucket": "b", "tags": {"environment": UNKNOWN_VALUE}}, "b")]
    found = {rule.name for rule, _, _ in run(RULES, bare)}
    assert found == {
        "s3-public-access-block",
        "s3-kms-encryption",
        "s3-deny-insecure-transport",
        "s3-ownership-enforced",
        "s3-versioning",
        "s3-access-logging",
        "s3-lifecycle-abort-multipart",
        "mandatory-tags",  # the unknown tag counts as set; the others are missing
    }


def test_the_local_stack_skips_exactly_the_rules_its_endpoint_cannot_honour():
    bare = [res(BUCKET, {"bucket": "b", "tags": {"environment": "local"}}, "b")]
    found = {rule.name for rule, _, _ in run([BY_NAME[n] for n in S3_RULES], bare)}
    assert found == {"s3-public-access-block", "s3-kms-encryption", "s3-ownership-enforced", "s3-versioning"}


def test_a_rule_that_meets_an_unknown_value_reports_nothing_it_found_before():
    """Half a rule's findings would read as a complete check: the rule is silent as a whole."""
    known_bad = bucket("a", BucketVersioning={"versioningConfiguration": {"status": "Suspended"}})
    unknown = bucket("b", BucketVersioning={"versioningConfiguration": UNKNOWN_VALUE})
    assert messages("s3-versioning", known_bad) == ["a: enable versioning."]
    assert messages("s3-versioning", known_bad + unknown) == []


def test_a_rule_raising_pulumi_policys_unknown_value_error_is_silent_too():
    """pulumi-policy raises its own error when a rule reads an unknown property of a resource."""

    def validate(resources: list[Any], report: Any) -> None:
        report("found first.", None)
        raise UnknownValueError(sorted(UNKNOWN)[0], ["policy"])

    rule = Rule("probe", "Probe.", "advisory", "low", (), validate)
    found = run([rule, BY_NAME["s3-versioning"]], bucket(BucketVersioning=None))
    assert [r.name for r, _, _ in found] == ["s3-versioning"]  # the rules after it still run


FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
ALL_ON = dict.fromkeys(FLAGS, True)

S3_CASES: list[tuple[str, str, list[Resource], list[str]]] = [
    *(
        (
            "s3-public-access-block",
            f"{flag} off",
            bucket(BucketPublicAccessBlock=ALL_ON | {flag: False}),
            ["public-access-block"],
        )
        for flag in FLAGS
    ),
    (
        "s3-public-access-block",
        "a flag not set",
        bucket(BucketPublicAccessBlock={"blockPublicAcls": True}),
        ["public-access-block"],
    ),
    ("s3-public-access-block", "no block", bucket(BucketPublicAccessBlock=None), ["public-access-block"]),
    # a data bucket: SSE-KMS, with a key, that is customer-managed, and the bucket key on
    (
        "s3-kms-encryption",
        "SSE-S3 on a data bucket",
        bucket(BucketServerSideEncryptionConfiguration=sse("AES256")),
        ["customer-managed key"],
    ),
    (
        "s3-kms-encryption",
        "SSE-KMS without a key",
        bucket(BucketServerSideEncryptionConfiguration=sse("aws:kms")),
        ["customer-managed key"],
    ),
    (
        "s3-kms-encryption",
        "the AWS-managed key",
        bucket(BucketServerSideEncryptionConfiguration=sse("aws:kms", "alias/aws/s3")),
        ["customer-managed key"],
    ),
    (
        "s3-kms-encryption",
        "a key without SSE-KMS",
        bucket(BucketServerSideEncryptionConfiguration=sse("AES256", KEY_ARN)),
        ["customer-managed key"],
    ),
    (
        "s3-kms-encryption",
        "a customer alias",
        bucket(BucketServerSideEncryptionConfiguration=sse("aws:kms", "alias/dataops-lake")),
        [],
    ),
    (
        "s3-kms-encryption",
        "no bucket key",
        bucket(BucketServerSideEncryptionConfiguration=sse("aws:kms", KEY_ARN, bucket_key=False)),
        ["bucket key"],
    ),
    (
        "s3-kms-encryption",
        "no encryption",
        bucket(BucketServerSideEncryptionConfiguration=None),
        ["customer-managed key"],
    ),
    # an access-log bucket (a logging target, or tagged so) takes SSE-S3, and needs encryption
    (
        "s3-kms-encryption",
        "SSE-S3 on the log target",
        bucket("logs", BucketServerSideEncryptionConfiguration=sse("AES256"), BucketLogging=None) + bucket(),
        [],
    ),
    (
        "s3-kms-encryption",
        "SSE-KMS on a tagged log bucket",
        bucket("l2", {"purpose": "access-logs"}, BucketServerSideEncryptionConfiguration=sse("aws:kms")),
        [],
    ),
    (
        "s3-kms-encryption",
        "a log bucket without encryption",
        bucket("logs", BucketServerSideEncryptionConfiguration=sse(None), BucketLogging=None) + bucket(),
        ["SSE-S3 for an access-log bucket"],
    ),
    (
        "s3-kms-encryption",
        "a log bucket with another algorithm",
        bucket("logs", BucketServerSideEncryptionConfiguration=sse("aws:kms:dsse"), BucketLogging=None)
        + bucket(),
        ["access-log bucket"],
    ),
    # the denial: Deny, to everyone, of s3:*, when the transport is not secure
    (
        "s3-deny-insecure-transport",
        "principal AWS *",
        bucket(BucketPolicy={"policy": json.dumps(deny_insecure(Principal={"AWS": "*"}))}),
        [],
    ),
    (
        "s3-deny-insecure-transport",
        "action list and boolean condition",
        bucket(
            BucketPolicy={
                "policy": deny_insecure(Action=["s3:*"], Condition={"Bool": {"aws:SecureTransport": False}})
            }
        ),
        [],
    ),
    (
        "s3-deny-insecure-transport",
        "an Allow",
        bucket(BucketPolicy={"policy": json.dumps(deny_insecure(Effect="Allow"))}),
        ["aws:SecureTransport"],
    ),
    (
        "s3-deny-insecure-transport",
        "one principal only",
        bucket(BucketPolicy={"policy": json.dumps(deny_insecure(Principal={"AWS": "arn:aws:iam::1:root"}))}),
        ["aws:SecureTransport"],
    ),
    (
        "s3-deny-insecure-transport",
        "one action only",
        bucket(BucketPolicy={"policy": json.dumps(deny_insecure(Action="s3:GetObject"))}),
        ["aws:SecureTransport"],
    ),
    (
        "s3-deny-insecure-transport",
        "denied over TLS",
        bucket(
            BucketPolicy={
                "policy": json.dumps(deny_insecure(Condition={"Bool": {"aws:SecureTransport": "true"}}))
            }
        ),
        ["aws:SecureTransport"],
    ),
    (
        "s3-deny-insecure-transport",
        "no condition",
        bucket(BucketPolicy={"policy": json.dumps(deny_insecure(Condition={}))}),
        ["aws:SecureTransport"],
    ),
    (
        "s3-deny-insecure-transport",
        "an empty policy",
        bucket(BucketPolicy={"policy": ""}),
        ["aws:SecureTransport"],
    ),
    ("s3-deny-insecure-transport", "no policy", bucket(BucketPolicy=None), ["aws:SecureTransport"]),
    ("s3-ownership-enforced", "no controls", bucket(BucketOwnershipControls=None), ["BucketOwnerEnforced"]),
    (
        "s3-ownership-enforced",
        "ObjectWriter",
        bucket(BucketOwnershipControls={"rule": {"objectOwnership": "ObjectWriter"}}),
        ["BucketOwnerEnforced"],
    ),
    (
        "s3-kms-encryption",
        "an encryption setting without rules",
        bucket(BucketServerSideEncryptionConfiguration={}),
        ["customer-managed key"],
    ),
    (
        "s3-kms-encryption",
        "a log bucket, then a data bucket on SSE-S3",
        bucket("logs", BucketServerSideEncryptionConfiguration=sse("AES256"), BucketLogging=None)
        + bucket(BucketServerSideEncryptionConfiguration=sse("AES256")),
        ["customer-managed key"],
    ),
    (
        "s3-deny-insecure-transport",
        "a policy without statements",
        bucket(BucketPolicy={"policy": json.dumps({"Version": "2012-10-17"})}),
        ["aws:SecureTransport"],
    ),
    (
        "s3-deny-insecure-transport",
        "a denial with no condition at all",
        bucket(BucketPolicy={"policy": json.dumps(deny_insecure(Condition=DROP))}),
        ["aws:SecureTransport"],
    ),
    ("s3-versioning", "no versioning", bucket(BucketVersioning=None), ["enable versioning"]),
    (
        "s3-versioning",
        "suspended",
        bucket(BucketVersioning={"versioningConfiguration": {"status": "Suspended"}}),
        ["enable versioning"],
    ),
    ("s3-access-logging", "no logging", bucket(BucketLogging=None), ["access logs"]),
    ("s3-access-logging", "the log target itself", bucket("logs", BucketLogging=None) + bucket(), []),
    (
        "s3-access-logging",
        "a log bucket, then a bucket that does not log",
        bucket("l2", {"purpose": "access-logs"}, BucketLogging=None) + bucket(BucketLogging=None),
        ["access logs"],
    ),
    (
        "s3-access-logging",
        "a tagged log bucket",
        bucket("l2", {"purpose": "access-logs"}, BucketLogging=None),
        [],
    ),
    (
        "s3-lifecycle-abort-multipart",
        "no lifecycle",
        bucket(BucketLifecycleConfiguration=None),
        ["incomplete multipart"],
    ),
    (
        "s3-lifecycle-abort-multipart",
        "rules without the abort",
        bucket(BucketLifecycleConfiguration={"rules": [{"id": "expire", "expiration": {"days": 30}}]}),
        ["incomplete multipart"],
    ),
    (
        "s3-lifecycle-abort-multipart",
        "a lifecycle setting without rules",
        bucket(BucketLifecycleConfiguration={}),
        ["incomplete multipart"],
    ),
    (
        "s3-lifecycle-abort-multipart",
        "the abort in a later rule",
        bucket(
            BucketLifecycleConfiguration={
                "rules": [
                    {"id": "expire", "expiration": {"days": 30}},
                    {"id": "abort", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1}},
                ]
            }
        ),
        [],
    ),
]


@pytest.mark.parametrize(
    ("rule", "resources", "expected"),
    [
        pytest.param(rule, resources, expected, id=f"{rule}: {case}")
        for rule, case, resources, expected in S3_CASES
    ],
)
def test_s3_rule_branches(rule, resources, expected):
    check(rule, resources, expected)


def locked_bucket(environment: str, zone: str | None, enabled: bool | None, config: bool) -> list[Resource]:
    tags = {"environment": environment, **({"zone": zone} if zone else {})}
    props = {"bucket": "z", "tags": tags, **({"objectLockEnabled": enabled} if enabled is not None else {})}
    lock = [setting("BucketObjectLockConfiguration", "z", rule={"defaultRetention": {"days": 30}})]
    return [res(BUCKET, props, "z"), *(lock if config else [])]


@pytest.mark.parametrize(
    ("environment", "zone", "enabled", "config", "refused"),
    [
        ("prod", "raw", True, True, False),
        ("prod", "raw", None, True, True),  # the configuration without the bucket's lock
        ("prod", "raw", True, False, True),  # the bucket's lock without a configuration
        ("prod", "raw", False, False, True),
        ("prod", "workspace", False, False, False),  # scratch, not a lake zone
        ("prod", None, False, False, False),  # not a zone bucket
        ("dev", "raw", False, False, False),  # prod only
    ],
)
def test_object_lock_rule_branches(environment, zone, enabled, config, refused):
    found = messages("s3-object-lock-prod", locked_bucket(environment, zone, enabled, config))
    assert found == (["z: prod lake zones need object lock (set lake.objectLock)."] if refused else [])


# -- KMS and IAM -----------------------------------------------------------------------------


@pytest.mark.parametrize(("rotation", "refused"), [(True, False), (False, True), (None, True)])
def test_key_rotation_rule_branches(rotation, refused):
    props = {} if rotation is None else {"enableKeyRotation": rotation}
    expected = ["k: enable automatic key rotation (enableKeyRotation: true)."] if refused else []
    assert messages("kms-key-rotation", [res("aws:kms/key:Key", props, "k")]) == expected


def identity_policy(type_: str, effect: str, action: Any, resource: Any) -> Resource:
    """One statement; a {"NotAction": ...} action or {"NotResource": ...} resource is used as is."""
    statement = {"Effect": effect}
    statement |= action if isinstance(action, dict) else {"Action": action}
    statement |= resource if isinstance(resource, dict) else {"Resource": resource}
    return res(type_, {"policy": policy_text(statement)}, "p")


BUCKET_ARN = "arn:aws:s3:::dataops-prod-raw/*"

WILDCARD_CASES = [
    ("every action", "Allow", "*", BUCKET_ARN, ["list the actions needed"]),
    ("every action of a service", "Allow", ["s3:GetObject", "s3:*"], BUCKET_ARN, ["list the actions needed"]),
    ("a data action on every resource", "Allow", "s3:GetObject", "*", ["scope data actions"]),
    ("a key action on every resource", "Allow", ["kms:GenerateDataKey"], ["*"], ["scope data actions"]),
    ("a catalog action on every resource", "Allow", "glue:GetTable", "*", ["scope data actions"]),
    ("a data action on its bucket", "Allow", "s3:GetObject", BUCKET_ARN, []),
    ("another service on every resource", "Allow", "ec2:DescribeInstances", "*", []),
    ("a Deny of everything", "Deny", "*", "*", []),
    # NotAction allows every action it does not list; NotResource every resource but its own
    ("every action but one", "Allow", {"NotAction": "iam:*"}, BUCKET_ARN, ["instead of NotAction"]),
    ("a denial by NotAction", "Deny", {"NotAction": "s3:GetObject"}, "*", []),
    (
        "a data action on all but one resource",
        "Allow",
        "s3:GetObject",
        {"NotResource": BUCKET_ARN},
        ["scope data actions"],
    ),
    # action names are case-insensitive in IAM
    ("a data action in capitals on every resource", "Allow", "S3:GetObject", "*", ["scope data actions"]),
]


@pytest.mark.parametrize("type_", IDENTITY_POLICIES)
@pytest.mark.parametrize(
    ("effect", "action", "resource", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in WILDCARD_CASES],
)
def test_wildcard_rule_branches_for_every_kind_of_identity_policy(type_, effect, action, resource, expected):
    check("iam-no-wildcards", [identity_policy(type_, effect, action, resource)], expected)


DECRYPT_CASES = [
    ("decrypt with every key", "Allow", "kms:Decrypt", "*", True),
    ("every kms action on every key", "Allow", "kms:*", "*", True),
    (
        "decrypt with every key of an account",
        "Allow",
        ["kms:Decrypt"],
        ["arn:aws:kms:eu-west-1:1:key/*"],
        True,
    ),
    ("decrypt with the lake key", "Allow", "kms:Decrypt", KEY_ARN, False),
    ("encrypt with every key", "Allow", "kms:Encrypt", "*", False),
    ("a Deny", "Deny", "kms:Decrypt", "*", False),
    # IAM matches actions case-insensitively and with wildcards
    ("decrypt in capitals", "Allow", "KMS:Decrypt", "arn:aws:kms:eu-west-1:1:key/*", True),
    ("decrypt by a pattern", "Allow", "kms:De*", "arn:aws:kms:eu-west-1:1:key/*", True),
    ("every action", "Allow", "*", "arn:aws:kms:eu-west-1:1:key/*", True),
    ("a pattern that is not decrypt", "Allow", "kms:Describe*", "*", False),
    ("every resource of the account", "Allow", "kms:Decrypt", "arn:aws:kms:eu-west-1:1:*", True),
    ("all keys but one", "Allow", "kms:Decrypt", {"NotResource": KEY_ARN}, True),
    ("every action but decrypt", "Allow", {"NotAction": ["kms:Decrypt"]}, "*", False),
    ("every action but encrypt", "Allow", {"NotAction": ["kms:Encrypt"]}, "*", True),
]


@pytest.mark.parametrize("type_", IDENTITY_POLICIES)
@pytest.mark.parametrize(
    ("effect", "action", "resource", "refused"),
    [pytest.param(*case[1:], id=case[0]) for case in DECRYPT_CASES],
)
def test_decrypt_rule_branches_for_every_kind_of_identity_policy(type_, effect, action, resource, refused):
    expected = ["p: allow kms:Decrypt on the lake key's ARN only, not on every key."] if refused else []
    assert messages("iam-no-decrypt-all-keys", [identity_policy(type_, effect, action, resource)]) == expected


# EKS Pod Identity's trust: the pods service, allowed to tag the session, scoped by the session
# tags it sets to one cluster (by ARN), namespace and service account, with exact values.
POD_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
    "Condition": {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": "arn:aws:eks:eu-west-1:111122223333:cluster/c",
            "aws:RequestTag/kubernetes-namespace": ["team"],
            "aws:RequestTag/kubernetes-service-account": ["data-access"],
        }
    },
}
TAG_SESSION = "r: allow sts:TagSession so EKS can set the session tags it is scoped by."


def scope(what: str, key: str) -> str:
    return f"r: scope the Pod Identity trust to its {what} with StringEquals on aws:RequestTag/{key} (exact values)."


CLUSTER, NAMESPACE_, ACCOUNT = (
    scope("cluster", "eks-cluster-arn"),
    scope("namespace", "kubernetes-namespace"),
    scope("service account", "kubernetes-service-account"),
)


def trust(*statements: dict[str, Any], name: str = "r") -> Resource:
    return res("aws:iam/role:Role", {"assumeRolePolicy": policy_text(*statements)}, name)


NULL = "null"  # JSON's null, as a value written into a condition


def pod_trust(**changes: Any) -> dict[str, Any]:
    """POD_TRUST with top-level keys replaced (None drops one) and `equals` merged into its
    StringEquals (None drops a key)."""
    equals = changes.pop("equals", {})
    statement = json.loads(json.dumps(POD_TRUST | changes))  # a deep copy: POD_TRUST stays as is
    for key, value in equals.items():
        statement["Condition"]["StringEquals"].pop(key, None)
        if value is not None:
            statement["Condition"]["StringEquals"][key] = None if value == NULL else value
    return {k: v for k, v in statement.items() if v is not None}


CLUSTER_ARN = "aws:RequestTag/eks-cluster-arn"
EC2_TRUST = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}

TRUST_CASES = [
    ("scoped", [pod_trust()], []),
    ("no TagSession", [pod_trust(Action="sts:AssumeRole")], [TAG_SESSION]),
    ("no condition", [pod_trust(Condition=None)], [CLUSTER, NAMESPACE_, ACCOUNT]),
    (
        "scoped by cluster name, which repeats across regions and accounts",
        [pod_trust(equals={CLUSTER_ARN: None, "aws:RequestTag/eks-cluster-name": "c"})],
        [CLUSTER],
    ),
    (
        "the cluster ARN under ArnEquals",
        [
            pod_trust(
                equals={CLUSTER_ARN: None},
                Condition=POD_TRUST["Condition"]
                | {"ArnEquals": {CLUSTER_ARN: "arn:aws:eks:eu-west-1:111122223333:cluster/c"}},
            )
        ],
        [],
    ),
    (
        "the older SourceArn form",
        [
            pod_trust(
                Condition={
                    "StringEquals": {"aws:SourceAccount": "111122223333"},
                    "ArnEquals": {"aws:SourceArn": "arn:aws:eks:eu-west-1:111122223333:cluster/c"},
                }
            )
        ],
        [CLUSTER, NAMESPACE_, ACCOUNT],
    ),
    (
        "a * in the namespace",
        [pod_trust(equals={"aws:RequestTag/kubernetes-namespace": ["team-*"]})],
        [NAMESPACE_],
    ),
    (
        "a ? in the namespace",
        [pod_trust(equals={"aws:RequestTag/kubernetes-namespace": "tea?"})],
        [NAMESPACE_],
    ),
    (
        "one exact and one wildcard service account",
        [pod_trust(equals={"aws:RequestTag/kubernetes-service-account": ["data-access", "*"]})],
        [ACCOUNT],
    ),
    (
        "the service account under StringLike",
        [
            pod_trust(
                equals={"aws:RequestTag/kubernetes-service-account": None},
                Condition=POD_TRUST["Condition"]
                | {"StringLike": {"aws:RequestTag/kubernetes-service-account": "*"}},
            )
        ],
        [ACCOUNT],
    ),
    (
        "no TagSession and no condition",
        [pod_trust(Action=["sts:AssumeRole"], Condition=None)],
        [TAG_SESSION, CLUSTER, NAMESPACE_, ACCOUNT],
    ),
    (
        "pods among several services",
        [
            pod_trust(
                Principal={"Service": ["ec2.amazonaws.com", "pods.eks.amazonaws.com"]},
                Action="sts:AssumeRole",
            )
        ],
        [TAG_SESSION],
    ),
    ("another service", [EC2_TRUST], []),
    ("a Deny", [pod_trust(Effect="Deny", Condition=None)], []),
    (
        "an account principal",
        [pod_trust(Principal={"AWS": "arn:aws:iam::111122223333:root"}, Condition=None)],
        [],
    ),
    ("a principal that is not a mapping", [pod_trust(Principal="*", Condition=None)], []),
    ("a null namespace", [pod_trust(equals={"aws:RequestTag/kubernetes-namespace": NULL})], [NAMESPACE_]),
    # a statement the rule passes over does not end its look at the role's others
    (
        "another service, then an unscoped pods statement",
        [EC2_TRUST, pod_trust(Action="sts:AssumeRole")],
        [TAG_SESSION],
    ),
]


@pytest.mark.parametrize(("statements", "expected"), [pytest.param(*c[1:], id=c[0]) for c in TRUST_CASES])
def test_pod_identity_trust_rule_branches(statements, expected):
    assert messages("pod-identity-trust-scoped", [trust(*statements)]) == expected


def test_pod_identity_trust_rule_judges_every_role():
    roles = [
        trust(pod_trust(), name="ok"),
        res("aws:iam/role:Role", {}, "bare"),
        trust(pod_trust(Condition=None)),
    ]
    assert messages("pod-identity-trust-scoped", roles) == [CLUSTER, NAMESPACE_, ACCOUNT]


# -- ECR, EKS, EC2 ---------------------------------------------------------------------------

ECR_OK = {
    "imageScanningConfiguration": {"scanOnPush": True},
    "imageTagMutability": "IMMUTABLE",
    "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"imageScanningConfiguration": {"scanOnPush": False}}, ["scan images on push"]),
        ({"imageScanningConfiguration": None}, ["scan images on push"]),
        ({"imageTagMutability": "MUTABLE"}, ["IMMUTABLE"]),
        ({"encryptionConfigurations": [{"encryptionType": "AES256"}]}, ["KMS key"]),
        ({"encryptionConfigurations": []}, ["KMS key"]),
        (
            {
                "imageScanningConfiguration": None,
                "imageTagMutability": None,
                "encryptionConfigurations": None,
            },
            ["scan images on push", "IMMUTABLE", "KMS key"],
        ),
    ],
)
def test_ecr_rule_branches(change, expected):
    props = {k: v for k, v in (ECR_OK | change).items() if v is not None}
    check("ecr-repository-hardened", [res("aws:ecr/repository:Repository", props, "repo")], expected)


def cluster(environment: str = "dev", **props: Any) -> Resource:
    return res("aws:eks/cluster:Cluster", {"tags": {"environment": environment}, **props}, "eks")


def vpc_config(public: bool | None, private: bool = True, cidrs: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"endpointPrivateAccess": private, "securityGroupIds": ["sg-api"]}
    if public is not None:
        config["endpointPublicAccess"] = public
    if cidrs is not None:
        config["publicAccessCidrs"] = cidrs
    return config


@pytest.mark.parametrize(
    ("environment", "config", "expected"),
    [
        ("prod", vpc_config(False), []),
        ("prod", vpc_config(None), ["must not be public"]),  # EKS's default is a public endpoint
        ("prod", vpc_config(True, cidrs=["203.0.113.0/24"]), ["must not be public"]),
        ("prod", vpc_config(False, private=False), ["private API endpoint"]),
        ("dev", vpc_config(True, cidrs=["203.0.113.0/24"]), []),
        ("dev", vpc_config(True), ["limit the public endpoint"]),  # EKS's default CIDR is 0.0.0.0/0
        ("dev", vpc_config(None, cidrs=[]), ["limit the public endpoint"]),
        ("dev", vpc_config(True, cidrs=["203.0.113.0/24", "0.0.0.0/0"]), ["limit the public endpoint"]),
        ("dev", vpc_config(False), []),
        ("dev", vpc_config(False, private=False), ["private API endpoint"]),
        ("dev", {}, ["private API endpoint", "limit the public endpoint"]),
    ],
)
def test_private_endpoint_rule_branches(environment, config, expected):
    check("eks-private-endpoint", [cluster(environment, vpcConfig=config)], expected)


def ingress_rule(
    protocol: str, start: int | None = None, end: int | None = None, group: str = "sg-api"
) -> Resource:
    props = {"securityGroupId": group, "ipProtocol": protocol, "fromPort": start, "toPort": end}
    return res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", props, "in")


@pytest.mark.parametrize(
    ("rules", "public", "refused"),
    [
        ([ingress_rule("tcp", 443, 443)], False, False),
        ([ingress_rule("tcp", 0, 65535)], False, False),
        ([ingress_rule("-1")], False, False),
        ([ingress_rule("tcp", 443, 443, group="sg-other")], False, True),
        ([ingress_rule("udp", 443, 443)], False, True),
        ([ingress_rule("tcp", 444, 500)], False, True),
        ([ingress_rule("tcp", 0, 442)], False, True),
        ([ingress_rule("tcp")], False, True),
        ([], False, True),
        ([], True, False),  # reached through the public endpoint
        ([], None, False),
    ],
)
def test_api_reachable_rule_branches(rules, public, refused):
    found = messages("eks-api-reachable", [cluster(vpcConfig=vpc_config(public)), *rules])
    assert found == (
        [
            "eks: admit 443 into the API security group from the stack's runner (ci.runner) or "
            "cluster.privateAccessCidrs; nothing could reach the private endpoint."
        ]
        if refused
        else []
    )


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        ({"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}}, False),
        ({"resources": ["secrets"], "provider": {}}, True),  # secrets encryption without a key
        ({"resources": ["secrets"]}, True),
        ({"resources": [], "provider": {"keyArn": KEY_ARN}}, True),  # a key that encrypts nothing
        ({"provider": {"keyArn": KEY_ARN}}, True),
        (None, True),
    ],
)
def test_secrets_encryption_rule_branches(config, refused):
    props = {} if config is None else {"encryptionConfig": config}
    expected = ["eks: encrypt Kubernetes secrets with a customer-managed KMS key."] if refused else []
    assert messages("eks-secrets-encryption", [cluster(**props)]) == expected


ALL_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


@pytest.mark.parametrize(
    ("environment", "logs", "refused"),
    [
        ("dev", ["audit"], False),
        ("dev", ["api", "authenticator"], True),
        ("dev", None, True),
        ("prod", ALL_LOGS, False),
        ("prod", ["audit"], True),  # prod needs every type, not the audit log alone
        ("prod", [t for t in ALL_LOGS if t != "audit"], True),
    ],
)
def test_control_plane_logs_rule_branches(environment, logs, refused):
    props = {} if logs is None else {"enabledClusterLogTypes": logs}
    wanted = "all types" if environment == "prod" else "at least audit"
    expected = [f"eks: enable control-plane logs ({wanted})."] if refused else []
    assert messages("eks-control-plane-logs", [cluster(environment, **props)]) == expected


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"httpTokens": "required", "httpPutResponseHopLimit": 1}, False),
        ({"httpTokens": "optional", "httpPutResponseHopLimit": 1}, True),
        ({"httpTokens": "required", "httpPutResponseHopLimit": 2}, True),
        (None, True),
    ],
)
def test_imds_rule_branches(options, refused):
    props = {} if options is None else {"metadataOptions": options}
    template = res("aws:ec2/launchTemplate:LaunchTemplate", props, "lt")
    expected = ["lt: require IMDSv2 (httpTokens: required) with hop limit 1."] if refused else []
    assert messages("imdsv2-hop-limit-1", [template]) == expected


# -- Kubernetes ------------------------------------------------------------------------------

NAMESPACE = "kubernetes:core/v1:Namespace"


def namespace(name: str, team: bool = True, enforce: str | None = "restricted") -> Resource:
    labels = {**({"dataops.io/team": name} if team else {})}
    if enforce:
        labels["pod-security.kubernetes.io/enforce"] = enforce
    return res(NAMESPACE, {"metadata": {"name": name, "labels": labels}}, f"{name}-ns")


@pytest.mark.parametrize(
    ("name", "enforce", "refused"),
    [
        ("team", "restricted", False),
        ("team", "baseline", True),
        ("team", None, True),
        ("tigera-operator", "privileged", False),  # the one namespace listed with its reason
    ],
)
def test_pod_security_rule_branches(name, enforce, refused):
    expected = [f"namespace {name}: label pod-security.kubernetes.io/enforce=restricted."] if refused else []
    assert messages("k8s-pod-security", [namespace(name, enforce=enforce)]) == expected


def network_policy(namespace_name: str = "team", **spec: Any) -> Resource:
    full = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} | spec
    props = {"metadata": {"name": "default-deny", "namespace": namespace_name}, "spec": full}
    return res("kubernetes:networking.k8s.io/v1:NetworkPolicy", props, f"{namespace_name}-deny")


def quota(namespace_name: str = "team") -> Resource:
    props = {"metadata": {"name": "quota", "namespace": namespace_name}, "spec": {"hard": {"pods": "50"}}}
    return res("kubernetes:core/v1:ResourceQuota", props, f"{namespace_name}-quota")


ALLOW_ALL = [{}]


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        ([network_policy(), quota()], []),
        # a policy that allows traffic is not a default deny, whatever else it selects
        ([network_policy(ingress=ALLOW_ALL), quota()], ["default-deny"]),
        ([network_policy(egress=[{"to": [{"podSelector": {}}]}]), quota()], ["default-deny"]),
        ([network_policy(policyTypes=["Ingress"]), quota()], ["default-deny"]),
        ([network_policy(podSelector={"matchLabels": {"app": "x"}}), quota()], ["default-deny"]),
        ([network_policy(namespace_name="other"), quota()], ["default-deny"]),
        ([network_policy()], ["ResourceQuota"]),
        ([network_policy(), quota("other")], ["ResourceQuota"]),
        ([], ["default-deny", "ResourceQuota"]),
    ],
)
def test_namespace_isolation_rule_branches(objects, expected):
    check("k8s-namespace-isolation", [namespace("team"), *objects], expected)


def test_namespace_isolation_applies_to_team_namespaces_only():
    assert messages("k8s-namespace-isolation", [namespace("system", team=False)]) == []


def ingress(environment: str, annotations: dict[str, str]) -> list[Resource]:
    props = {"metadata": {"name": "hub", "annotations": annotations}}
    return [env(environment), res("kubernetes:networking.k8s.io/v1:Ingress", props, "hub")]


SCHEME = "alb.ingress.kubernetes.io/scheme"
CIDRS = "alb.ingress.kubernetes.io/inbound-cidrs"


@pytest.mark.parametrize(
    ("environment", "annotations", "refused"),
    [
        ("prod", {SCHEME: "internal"}, False),
        ("prod", {}, False),  # the controller's default scheme is internal
        ("prod", {SCHEME: "internet-facing", CIDRS: "203.0.113.0/24"}, False),
        ("prod", {SCHEME: "internet-facing"}, True),
        ("prod", {SCHEME: "internet-facing", CIDRS: "0.0.0.0/0"}, True),
        ("prod", {SCHEME: "internet-facing", CIDRS: "203.0.113.0/24, 0.0.0.0/0"}, True),
        ("prod", {SCHEME: "internet-facing", CIDRS: "0.0.0.0/0,203.0.113.0/24"}, True),  # no space
        ("dev", {SCHEME: "internet-facing"}, False),
    ],
)
def test_hub_exposure_rule_branches(environment, annotations, refused):
    expected = (
        [
            "hub: prod's hub is internet-facing for everyone; list notebooks.allowedCidrs or keep "
            "notebooks.scheme internal."
        ]
        if refused
        else []
    )
    assert messages("hub-not-open-to-the-internet", ingress(environment, annotations)) == expected


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        ({"name": "repo@sha256", "tag": "a" * 64}, None),
        ({"name": "repo", "tag": "a" * 64}, "repo:" + "a" * 64),  # a 64-character tag is not a digest
        ({"name": "repo@sha256", "tag": "a" * 63}, "repo@sha256:" + "a" * 63),
        ({"name": "repo", "tag": "latest"}, "repo:latest"),
        ({"name": "repo"}, "repo:"),  # the message shows what is set, and nothing for what is not
        ({"tag": "latest"}, ":latest"),
        (None, None),  # another release (no notebook image)
    ],
)
def test_notebook_digest_rule_branches(image, refused):
    """`refused`: the reference the message quotes back, when the image is refused."""
    values = {"singleuser": {"image": image}} if image else {"controller": {}}
    release = res("kubernetes:helm.sh/v3:Release", {"values": values}, "hub")
    expected = (
        [f"hub: reference the notebook image by digest (name repo@sha256, tag <hex>), not {refused}."]
        if refused
        else []
    )
    assert messages("notebook-image-by-digest", [release]) == expected


# -- Teardown and tags -----------------------------------------------------------------------

PROTECTED_TYPES = [BUCKET, "aws:kms/key:Key", "aws:eks/cluster:Cluster"]


@pytest.mark.parametrize("type_", PROTECTED_TYPES)
@pytest.mark.parametrize(
    ("environment", "protect", "refused"),
    [("prod", True, False), ("prod", False, True), ("dev", False, False)],
)
def test_prod_protection_rule_branches(type_, environment, protect, refused):
    resource = res(type_, {"tags": {"environment": environment}}, "x", protect=protect)
    expected = ["x: protect prod data and keys (deletionProtection: true)."] if refused else []
    assert messages("prod-data-protected", [resource]) == expected


@pytest.mark.parametrize(
    ("environment", "type_", "props", "refused"),
    [
        ("sandbox", BUCKET, {"forceDestroy": True, "tags": {"zone": "workspace"}}, False),
        ("sandbox", BUCKET, {"forceDestroy": True, "tags": {"zone": "raw"}}, True),  # sandbox, not scratch
        ("dev", BUCKET, {"forceDestroy": True, "tags": {"zone": "workspace"}}, True),  # scratch, not sandbox
        ("dev", BUCKET, {"forceDestroy": False, "tags": {"zone": "raw"}}, False),
        ("sandbox", "aws:ecr/repository:Repository", {"forceDelete": True}, False),
        ("dev", "aws:ecr/repository:Repository", {"forceDelete": True}, True),
        ("dev", "aws:ecr/repository:Repository", {}, False),
    ],
)
def test_force_destroy_rule_branches(environment, type_, props, refused):
    resources = [env(environment), res(type_, props, "x")]
    expected = ["x: only sandbox scratch storage may be force-destroyed; remove forceDestroy."]
    assert messages("force-destroy-sandbox-scratch-only", resources) == (expected if refused else [])


ALL_TAGS = {t: "x" for t in MANDATORY_TAGS} | {"created-at": "t", "expires-at": "t"}


@pytest.mark.parametrize("missing", MANDATORY_TAGS)
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_each_mandatory_tag_is_required(missing, how):
    tags = {k: v for k, v in ALL_TAGS.items() if k != missing} | ({missing: ""} if how == "empty" else {})
    tagged = res("aws:iam/role:Role", {"tags": tags}, "role")
    assert messages("mandatory-tags", [tagged]) == [f"role: add the tags {missing}."]
    assert messages("mandatory-tags", [res("aws:iam/role:Role", {"tags": ALL_TAGS}, "role")]) == []


@pytest.mark.parametrize(
    ("environment", "drop", "refused"),
    [
        ("sandbox", None, False),
        ("sandbox", "created-at", True),
        ("sandbox", "owner", True),
        ("dev", "expires-at", False),
    ],
)
def test_sandbox_expiry_tag_branches(environment, drop, refused):
    tags = {k: v for k, v in ALL_TAGS.items() if k != drop} | {"environment": environment}
    found = messages("sandbox-expiry", [res(BUCKET, {"tags": tags}, "b")])
    assert found == (
        [f"b: a sandbox resource needs the tags {drop}, so it can be reaped."] if refused else []
    )


@pytest.mark.parametrize(
    ("code", "judged"),
    [
        # the controller's configuration sets no backend: it is not the gateway's limits
        ("c.KubeController.completed_cluster_max_age = 86400\n", False),
        ("c.DaskGateway.backend_class = 'dask_gateway_server.backends.kubernetes.KubeBackend'\n", True),
    ],
)
def test_the_dask_rule_judges_the_api_servers_config_map_only(code, judged):
    config = res("kubernetes:core/v1:ConfigMap", {"data": {"dask_gateway_config.py": code}}, "dask-config")
    assert bool(messages("dask-gateway-limits", [config])) is judged


LIMITS = (
    "MAX_CLUSTERS_PER_USER = 2\n"
    "c.DaskGateway.backend_class = limit_clusters_per_user(KubeBackend)\n"
    "c.ClusterConfig.cluster_max_cores = 8\n"
    "c.ClusterConfig.cluster_max_memory = 34359738368\n"
    "c.ClusterConfig.idle_timeout = 1800\n"
)


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        (LIMITS, False),  # the chart takes extraConfig as one string too
        ({"b-limits": LIMITS.split("\n", 1)[1], "a-cap": LIMITS.split("\n", 1)[0]}, False),
        (LIMITS.replace("c.ClusterConfig.idle_timeout = 1800\n", ""), True),
        (None, True),
    ],
)
def test_the_dask_rule_reads_the_charts_extra_config_as_text_or_blocks(extra, refused):
    values = {"gateway": {"extraConfig": extra}} if extra is not None else {}
    chart = res("kubernetes:helm.sh/v4:Chart", {"chart": "dask-gateway", "values": values}, "dask-chart")
    assert bool(messages("dask-gateway-limits", [chart])) is refused


@pytest.mark.parametrize(
    ("environment", "type_", "protect", "refused"),
    [
        ("sandbox", BUCKET, True, True),
        ("sandbox", NAMESPACE, True, True),  # any resource, not only the tagged kinds
        ("sandbox", BUCKET, False, False),
        ("dev", BUCKET, True, False),  # outside a sandbox, protection is prod-data-protected's concern
    ],
)
def test_nothing_in_a_sandbox_may_be_protected(environment, type_, protect, refused):
    resources = [
        env(environment),
        res(type_, {"tags": ALL_TAGS | {"environment": environment}}, "x", protect),
    ]
    expected = ["x: nothing in a sandbox may be protected; remove protect so it can be reaped."]
    assert messages("sandbox-expiry", resources) == (expected if refused else [])


def test_an_untagged_resource_is_told_every_tag_it_lacks():
    assert messages("mandatory-tags", [res(BUCKET, {"bucket": "b"}, "b")]) == [
        f"b: add the tags {', '.join(MANDATORY_TAGS)}."
    ]
    assert messages("sandbox-expiry", [env("sandbox"), res(BUCKET, {"bucket": "b"}, "b")]) == [
        "b: a sandbox resource needs the tags owner, created-at, expires-at, so it can be reaped."
    ]


@pytest.mark.parametrize("rule", ["iam-no-wildcards", "iam-no-decrypt-all-keys"])
@pytest.mark.parametrize("policy", [json.dumps({"Version": "2012-10-17"}), ""])
def test_an_identity_policy_without_statements_allows_nothing(rule, policy):
    assert messages(rule, [res("aws:iam/rolePolicy:RolePolicy", {"policy": policy}, "p")]) == []


def policy_of(*statements: dict[str, Any]) -> Resource:
    return res("aws:iam/rolePolicy:RolePolicy", {"policy": policy_text(*statements)}, "p")


def api_cluster(name: str, public: bool) -> Resource:
    return res("aws:eks/cluster:Cluster", {"vpcConfig": vpc_config(public)}, name)


def ingress_named(name: str, scheme: str) -> Resource:
    props = {"metadata": {"name": name, "annotations": {SCHEME: scheme}}}
    return res("kubernetes:networking.k8s.io/v1:Ingress", props, name)


def release(name: str, values: dict[str, Any]) -> Resource:
    return res("kubernetes:helm.sh/v3:Release", {"values": values}, name)


# Each rule passes over what is not its concern (a log bucket, a Deny, a public endpoint, an
# internal load balancer...) and goes on to the next resource or statement, which it judges.
PASSED_OVER = [
    (
        "s3-object-lock-prod",
        "a workspace bucket, then a lake zone without a lock",
        [
            res(BUCKET, {"bucket": "w", "tags": {"environment": "prod", "zone": "workspace"}}, "w"),
            *locked_bucket("prod", "raw", False, False),
        ],
        ["z: prod lake zones need object lock"],
    ),
    (
        "iam-no-wildcards",
        "a Deny, then an Allow of everything",
        [policy_of({"Effect": "Deny", "Action": "*", "Resource": "*"}, {"Effect": "Allow", "Action": "*"})],
        ["p: list the actions needed instead of ['*']."],
    ),
    (
        "iam-no-wildcards",
        "a NotAction, then a service wildcard",
        [
            policy_of(
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": BUCKET_ARN},
                {"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_ARN},
            )
        ],
        [
            "p: list the actions needed instead of NotAction iam:*.",
            "p: list the actions needed instead of ['s3:*'].",
        ],
    ),
    (
        "k8s-pod-security",
        "the listed privileged namespace, then an unlabelled one",
        [namespace("tigera-operator", enforce="privileged"), namespace("team", enforce=None)],
        ["namespace team: label"],
    ),
    (
        "hub-not-open-to-the-internet",
        "an internal load balancer, then an open one",
        [env("prod"), ingress_named("internal", "internal"), ingress_named("open", "internet-facing")],
        ["open: prod's hub is internet-facing"],
    ),
    (
        "notebook-image-by-digest",
        "a release without a notebook image, then one with a tag",
        [release("other", {}), release("hub", {"singleuser": {"image": {"name": "repo", "tag": "latest"}}})],
        ["hub: reference the notebook image by digest"],
    ),
    (
        "eks-api-reachable",
        "a public endpoint, then a private one nothing reaches",
        [api_cluster("public", True), api_cluster("private", False)],
        ["private: admit 443"],
    ),
]


@pytest.mark.parametrize(
    ("rule", "resources", "expected"), [pytest.param(c[0], *c[2:], id=c[1]) for c in PASSED_OVER]
)
def test_a_rule_goes_on_past_what_it_passes_over(rule, resources, expected):
    check(rule, resources, expected)


def dask_refusal(*missing: str) -> list[str]:
    return [
        f"dask-chart: the Dask gateway lacks {', '.join(missing)}; users could hold the cluster's nodes "
        "without bound (notebooks.dask)."
    ]


IDLE = "c.ClusterConfig.idle_timeout = 1800\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (LIMITS + "c.ClusterConfig.idle_timeout = 0\n", dask_refusal("an idle timeout")),  # later wins
        (LIMITS.replace(IDLE, "c.ClusterConfig.idle_timeout = 0\n") + IDLE, []),
        (LIMITS + "c.ClusterConfig.idle_timeout = 900\n", []),  # the other limits stay in force
        (LIMITS + "c.ClusterConfig.idle_timeout = NONE = 0\n", dask_refusal("an idle timeout")),  # chained
        (
            LIMITS + "MAX_CLUSTERS_PER_USER = 0\nc.ClusterConfig.cluster_max_memory = 0\n",
            dask_refusal("a per-user cluster cap", "a per-cluster memory cap"),
        ),
        (LIMITS + "# c.ClusterConfig.idle_timeout = 0\n", []),  # a comment assigns nothing
        (LIMITS + "c.ClusterConfig.idle_timeout  =  0\n", dask_refusal("an idle timeout")),  # spaced
        (LIMITS + "c.ClusterConfig.idle_timeout=0\n", dask_refusal("an idle timeout")),
        (LIMITS + "if c.ClusterConfig.idle_timeout == 0: pass\n", []),  # a comparison assigns nothing
    ],
)
def test_the_dask_rule_judges_the_last_assignment_to_each_limit(extra, expected):
    chart = res(
        "kubernetes:helm.sh/v4:Chart",
        {"chart": "dask-gateway", "values": {"gateway": {"extraConfig": extra}}},
        "dask-chart",
    )
    assert messages("dask-gateway-limits", [chart]) == expected
