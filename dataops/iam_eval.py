"""A small evaluator of IAM policy statements against one request: what a bucket policy would
do to a given upload or download, or whether a role's trust policy lets a service assume it.
`verify` applies it to a live bucket's policy; the tests to the planned ones.

It implements the condition operators our policies use, with AWS's rule for keys missing from
the request: a missing key fails positive operators and satisfies negated ones
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any


@dataclass
class Request:
    action: str
    resource: str
    principal: str = "arn:aws:iam::111122223333:role/someone"
    principal_service: str | None = None
    context: dict[str, str] = field(default_factory=dict)


def _values(v: Any) -> list[str]:
    return [str(x) for x in (v if isinstance(v, list) else [v])]


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, str]) -> bool:
    present = key in context
    actual = context.get(key)
    wanted = _values(expected)
    if operator == "Null":
        return (not present) == (wanted[0] == "true")
    if operator == "Bool":
        return present and actual.lower() in [w.lower() for w in wanted]
    if operator in ("StringEquals", "ArnEquals"):
        return present and actual in wanted
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return not present or actual not in wanted
    if operator in ("StringLike", "ArnLike"):
        return present and any(fnmatchcase(actual, w) for w in wanted)
    raise NotImplementedError(operator)


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        if "Service" in principal:
            return request.principal_service in _values(principal["Service"])
        if "AWS" in principal:
            return any(p == "*" or p == request.principal for p in _values(principal["AWS"]))
    return False


def matches(statement: dict[str, Any], request: Request) -> bool:
    if not any(fnmatchcase(request.action, a) for a in _values(statement["Action"])):
        return False
    # A role's trust policy names no Resource: it applies to the role it is attached to.
    if "Resource" in statement and not any(
        fnmatchcase(request.resource, r) for r in _values(statement["Resource"])
    ):
        return False
    if "Principal" in statement and not _principal_matches(statement["Principal"], request):
        return False
    for operator, checks in statement.get("Condition", {}).items():
        for key, expected in checks.items():
            if not _condition_holds(operator, key, expected, request.context):
                return False
    return True


def denied_by(document: dict[str, Any], request: Request) -> list[str]:
    """Sids of the Deny statements that match the request."""
    return [s.get("Sid", "?") for s in document["Statement"] if s["Effect"] == "Deny" and matches(s, request)]


def allowed_by(document: dict[str, Any], request: Request) -> list[str]:
    return [
        s.get("Sid", "?") for s in document["Statement"] if s["Effect"] == "Allow" and matches(s, request)
    ]


def permits(document: dict[str, Any], request: Request) -> bool:
    """An Allow matches and no Deny does (within one policy: the evaluation a trust policy gets)."""
    return bool(allowed_by(document, request)) and not denied_by(document, request)
