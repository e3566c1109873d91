"""The policy evaluator (dataops/iam_eval.py) behind verify and the bucket tests: its semantics pinned."""

from dataops.iam_eval import Request, denied_by

DENY_IF_HEADER_WRONG = {
    "Statement": [
        {
            "Sid": "D",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"Null": {"h": "false"}, "StringNotEquals": {"h": "aws:kms"}},
        }
    ]
}
NAIVE = {
    "Statement": [
        {
            "Sid": "N",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::b/*",
            "Condition": {"StringNotEquals": {"h": "aws:kms"}},
        }
    ]
}


def put(**context: str) -> Request:
    return Request("s3:PutObject", "arn:aws:s3:::b/key", context=context)


def test_missing_key_satisfies_negated_operator_so_naive_deny_blocks_plain_uploads():
    assert denied_by(NAIVE, put()) == ["N"]


def test_null_false_limits_the_deny_to_requests_that_send_the_header():
    assert denied_by(DENY_IF_HEADER_WRONG, put()) == []
    assert denied_by(DENY_IF_HEADER_WRONG, put(h="AES256")) == ["D"]
    assert denied_by(DENY_IF_HEADER_WRONG, put(h="aws:kms")) == []


def test_action_and_resource_must_match():
    assert (
        denied_by(DENY_IF_HEADER_WRONG, Request("s3:GetObject", "arn:aws:s3:::b/k", context={"h": "x"})) == []
    )
    assert (
        denied_by(DENY_IF_HEADER_WRONG, Request("s3:PutObject", "arn:aws:s3:::other/k", context={"h": "x"}))
        == []
    )
