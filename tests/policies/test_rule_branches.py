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


def env(environment: str) -> Resource:
    """A resource that only carries the stack's environment tag (rules read it from any)."""
    return res("aws:s3/bucketVersioning:BucketVersioning", {"tags": {"environment": environment}}, "marker")


def messages(rule: str, resources: list[Resource]) -> list[str]:
    return [message for _, message, _ in run([BY_NAME[rule]], resources)]


def check(rule: str, resources: list[Resource], expected: list[str]) -> None:
    """The rule reports exactly one message per expected fragment, in order."""
    found = messages(rule, resources)
    assert len(found) == len(expected), found
    for fragment, message in zip(expected, found, strict=True):
        assert fragment in message, (fragment, message)


# -- S3: a compliant bucket, and each of its settings changed -------------------------------


def setting(kind: str, bucket: str, **props: Any) -> Resource:
    return res(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}", {"bucket": bucket, **props}, f"{bucket}-{kind}")


def deny_insecure(**changes: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    } | changes
    return {"Version": "2012-10-17", "Statement": [statement]}


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
    assert bool(messages("kms-key-rotation", [res("aws:kms/key:Key", props, "k")])) is refused


def identity_policy(type_: str, effect: str, action: Any, resource: Any) -> Resource:
    """One statement; a {"NotAction": ...} action or {"NotResource": ...} resource is used as is."""
    statement = {"Effect": effect}
    statement |= action if isinstance(action, dict) else {"Action": action}
    statement |= resource if isinstance(resource, dict) else {"Resource": resource}
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    return res(type_, {"policy": json.dumps(doc)}, "p")


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
    assert len(found) == int(refused), found


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
    assert bool(messages("eks-secrets-encryption", [cluster(**props)])) is refused


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
    assert bool(messages("eks-control-plane-logs", [cluster(environment, **props)])) is refused


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
    assert bool(messages("imdsv2-hop-limit-1", [template])) is refused


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
    assert bool(messages("k8s-pod-security", [namespace(name, enforce=enforce)])) is refused


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
        ("dev", {SCHEME: "internet-facing"}, False),
    ],
)
def test_hub_exposure_rule_branches(environment, annotations, refused):
    assert bool(messages("hub-not-open-to-the-internet", ingress(environment, annotations))) is refused


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        ({"name": "repo@sha256", "tag": "a" * 64}, False),
        ({"name": "repo", "tag": "a" * 64}, True),  # a 64-character tag is not a digest
        ({"name": "repo@sha256", "tag": "a" * 63}, True),
        ({"name": "repo", "tag": "latest"}, True),
        (None, False),  # another release (no notebook image)
    ],
)
def test_notebook_digest_rule_branches(image, refused):
    values = {"singleuser": {"image": image}} if image else {"controller": {}}
    release = res("kubernetes:helm.sh/v3:Release", {"values": values}, "hub")
    assert bool(messages("notebook-image-by-digest", [release])) is refused


# -- Teardown and tags -----------------------------------------------------------------------

PROTECTED_TYPES = [BUCKET, "aws:kms/key:Key", "aws:eks/cluster:Cluster"]


@pytest.mark.parametrize("type_", PROTECTED_TYPES)
@pytest.mark.parametrize(
    ("environment", "protect", "refused"),
    [("prod", True, False), ("prod", False, True), ("dev", False, False)],
)
def test_prod_protection_rule_branches(type_, environment, protect, refused):
    resource = res(type_, {"tags": {"environment": environment}}, "x", protect=protect)
    assert bool(messages("prod-data-protected", [resource])) is refused


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
    assert bool(messages("force-destroy-sandbox-scratch-only", resources)) is refused


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
