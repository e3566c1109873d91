"""Every IAM policy document the program declares, in every shipped stack and the 'everything on'
config, passes parliament (no finding of MEDIUM or above) and grants no `*` action."""

from __future__ import annotations

import json

import parliament
import pytest

from dataops.plan import Plan
from tests.conftest import SHIPPED

SEVERE = {"MEDIUM", "HIGH", "CRITICAL"}
# Trust policies name principals and must not name resources; parliament reads every document as
# an identity policy, so for them (only) its "no Resource" finding is expected and dropped.
TRUST_ONLY = "Statement contains neither Resource nor NotResource"


def parliament_findings(document: str, *, trust: bool = False) -> list[str]:
    out = []
    for finding in parliament.analyze_policy_string(document).findings:
        parliament.enhance_finding(finding)
        if finding.severity in SEVERE and not (
            trust and finding.issue == "MALFORMED" and finding.detail == TRUST_ONLY
        ):
            out.append(f"{finding.issue} ({finding.severity}): {finding.detail}")
    return out


def documents(plan: Plan):
    for r in plan.resources:
        if not r.type.startswith("aws:"):
            continue
        for key in ("policy", "assumeRolePolicy"):
            # other "policy" inputs (e.g. ECR lifecycle rules) are not IAM documents
            if isinstance(r.inputs.get(key), str) and "Statement" in json.loads(r.inputs[key]):
                yield r, key, r.inputs[key]


def all_plans(plans, everything) -> list[Plan]:
    return [*(plans[s] for s in SHIPPED), everything]


def test_every_stack_declares_policies(plans, everything):
    for plan in all_plans(plans, everything):
        kinds = {key for _, key, _ in documents(plan)}
        # the local stack has no IAM roles (its endpoint does not enforce IAM): key policy only
        assert kinds == ({"policy"} if plan.stack == "local" else {"policy", "assumeRolePolicy"}), plan.stack


def test_no_parliament_finding_of_medium_or_above(plans, everything):
    problems = []
    for plan in all_plans(plans, everything):
        for r, key, doc in documents(plan):
            problems += [
                f"{r.urn} {key}: {f}" for f in parliament_findings(doc, trust=key == "assumeRolePolicy")
            ]
    assert problems == []


def test_no_star_action_and_no_public_principal_allowed(plans, everything):
    for plan in all_plans(plans, everything):
        for r, key, doc in documents(plan):
            for statement in json.loads(doc)["Statement"]:
                actions = statement.get("Action", [])
                actions = actions if isinstance(actions, list) else [actions]
                assert "*" not in actions, f"{r.urn} {key}"
                if statement["Effect"] == "Allow":
                    assert statement.get("Principal") != "*", f"{r.urn} {key} allows everyone"


@pytest.mark.parametrize(
    ("document", "trust"),
    [
        (
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b/*"}],
            },
            False,
        ),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}, False),
    ],
)
def test_the_lint_can_fail(document, trust):
    assert parliament_findings(json.dumps(document), trust=trust) != []
