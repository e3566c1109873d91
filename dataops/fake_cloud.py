"""The fake cloud behind the offline plan: what AWS would compute for each resource we declare.

Every answer is derived from the stack, the resource type and its logical name, so the same
program and config always give the same plan. A resource type or function the fake cloud does
not know is an error, not an empty answer: add it here when the program starts using it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

ACCOUNT_ID = "111122223333"  # the example account id of the AWS documentation
PARTITION = "aws"
CREATED = "2026-01-01T00:00:00Z"


class UnknownToFakeCloud(Exception):
    pass


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


class FakeCloud(Mocks):
    def __init__(self, stack: str, region: str, stack_outputs: dict[str, dict[str, Any]] | None = None):
        self.stack = stack
        self.region = region
        self.stack_outputs = stack_outputs or {}
        self._resources: dict[str, Callable[[MockResourceArgs, str], dict[str, Any]]] = {
            "aws:s3/bucket:Bucket": self._bucket,
            "aws:kms/key:Key": self._kms_key,
            "aws:kms/alias:Alias": self._kms_alias,
            "aws:iam/role:Role": self._iam_role,
            "aws:iam/rolePolicy:RolePolicy": self._role_policy,
            "aws:glue/catalogDatabase:CatalogDatabase": self._glue_database,
            "pulumi:pulumi:StackReference": self._stack_reference,
        }
        # Settings attached to a bucket: their id is the bucket's name.
        for kind in (
            "bucketPublicAccessBlock:BucketPublicAccessBlock",
            "bucketOwnershipControls:BucketOwnershipControls",
            "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "bucketVersioning:BucketVersioning",
            "bucketLogging:BucketLogging",
            "bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "bucketPolicy:BucketPolicy",
        ):
            self._resources[f"aws:s3/{kind}"] = self._bucket_setting

    # -- resources ---------------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.custom is False:
            return "", {}  # components have no cloud identity (reads pass custom=None)
        handler = self._resources.get(args.typ)
        if handler is None:
            raise UnknownToFakeCloud(
                f"the offline fake cloud does not model {args.typ} ({args.name}); "
                "add it to dataops/fake_cloud.py"
            )
        uid = _digest(self.stack, args.typ, args.name)
        state = {**args.inputs, **handler(args, uid)}
        if "tags" in args.inputs:
            state.setdefault("tagsAll", args.inputs["tags"])
        return str(state.pop("id")), state

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{ACCOUNT_ID}:{resource}"

    def _bucket(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs.get("bucket") or f"{args.name}-{uid[:8]}"
        return {
            "id": name,
            "bucket": name,
            "arn": f"arn:{PARTITION}:s3:::{name}",
            "bucketDomainName": f"{name}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            "region": self.region,
            "hostedZoneId": "Z1BKCTXD74EZPE",
            "forceDestroy": bool(args.inputs.get("forceDestroy", False)),
        }

    def _bucket_setting(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        return {"id": args.inputs.get("bucket", uid)}

    def _kms_key(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        key_id = str(uuid.UUID(hex=_digest(self.stack, args.name, length=32)))
        return {
            "id": key_id,
            "keyId": key_id,
            "arn": self._arn("kms", f"key/{key_id}"),
            "keyUsage": "ENCRYPT_DECRYPT",
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        }

    def _kms_alias(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        return {
            "id": name,
            "arn": self._arn("kms", name),
            "targetKeyArn": self._arn("kms", "key/" + str(args.inputs["targetKeyId"])),
        }

    def _iam_role(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs.get("name") or f"{args.name}-{uid[:7]}"
        return {
            "id": name,
            "name": name,
            "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/{name}",
            "uniqueId": "AROA" + uid.upper()[:17],
            "createDate": CREATED,
        }

    def _role_policy(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        return {"id": f"{args.inputs['role']}:{args.inputs['name']}"}

    def _glue_database(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        return {
            "id": f"{ACCOUNT_ID}:{name}",
            "catalogId": ACCOUNT_ID,
            "arn": self._arn("glue", f"database/{name}"),
        }

    def _stack_reference(self, args: MockResourceArgs, uid: str) -> dict[str, Any]:
        name = args.inputs["name"]
        if name not in self.stack_outputs:
            raise UnknownToFakeCloud(f"stack reference {name}: not a stack of this project's offline plans")
        return {"id": name, "name": name, "outputs": self.stack_outputs[name], "secretOutputNames": []}

    # -- functions ---------------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": ACCOUNT_ID,
                "id": ACCOUNT_ID,
                "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:user/offline-plan",
                "userId": "AIDAOFFLINEPLAN",
            },
            "aws:index/getPartition:getPartition": lambda: {
                "id": PARTITION,
                "partition": PARTITION,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            },
            "aws:index/getRegion:getRegion": lambda: {
                "id": self.region,
                "name": self.region,
                "region": self.region,
                "endpoint": f"ec2.{self.region}.amazonaws.com",
                "description": self.region,
            },
        }
        answer = answers.get(args.token)
        if answer is None:
            raise UnknownToFakeCloud(
                f"the offline fake cloud cannot answer {args.token}; add it to dataops/fake_cloud.py"
            )
        return answer(), []
