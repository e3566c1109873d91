"""The objects of a dataset, wherever they are: an S3-compatible endpoint (AWS, the local stack's,
a moto server) read with boto3, or a directory laid out like the lake (`<dir>/<zone>/<prefix>`).

`quality` reads Parquet through `open`, which gives pyarrow a seekable file: on S3 every read is a
ranged GET, so only the footer and the row groups being checked are fetched, never a whole object.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

# Files Hive, Spark and Glue skip when they read a table location: names starting with `_`
# (`_SUCCESS`, `_committed_*`) or `.` (checksums, editors' files).
HIDDEN = ("_", ".")
# How much of an S3 object one ranged GET reads ahead: Parquet's footer and column chunks are
# read in several small reads, each of which would otherwise be a request.
READ_AHEAD = 1 << 20


class LakeFileError(Exception):
    """The data cannot be listed or read: one line, exit 2."""


@dataclass(frozen=True)
class DataObject:
    key: str
    """Relative to the dataset's prefix, e.g. `order_date=2026-11-28/part-0.parquet`."""
    size: int


class Source(Protocol):
    """Where one zone's objects are."""

    def objects(self, prefix: str) -> list[DataObject]: ...

    def open(self, prefix: str, key: str) -> BinaryIO: ...

    def describe(self, prefix: str, key: str = "") -> str: ...


def visible(key: str) -> bool:
    """Not a directory marker, and no part of the path hidden."""
    return not key.endswith("/") and not any(part.startswith(HIDDEN) for part in key.split("/"))


class LocalSource:
    """`<root>/<prefix>/...`: a zone's copy on disk."""

    def __init__(self, root: Path):
        self.root = root

    def objects(self, prefix: str) -> list[DataObject]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        found = []
        for directory, _, names in os.walk(base):
            for name in names:
                path = Path(directory) / name
                key = path.relative_to(base).as_posix()
                if visible(key):
                    found.append(DataObject(key, path.stat().st_size))
        return sorted(found, key=lambda o: o.key)

    def open(self, prefix: str, key: str) -> BinaryIO:
        try:
            return (self.root / prefix / key).open("rb")
        except OSError as exc:
            raise LakeFileError(f"{self.describe(prefix, key)}: cannot read ({exc.strerror})") from None

    def describe(self, prefix: str, key: str = "") -> str:
        return str(self.root / prefix / key) if key else f"{self.root / prefix}/"


class S3Source:
    """A zone bucket, through an S3 client."""

    def __init__(self, s3: Any, bucket: str):
        self.s3, self.bucket = s3, bucket

    def objects(self, prefix: str) -> list[DataObject]:
        found = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"][len(prefix) :]
                if visible(key):
                    found.append(DataObject(key, item["Size"]))
        return sorted(found, key=lambda o: o.key)

    def open(self, prefix: str, key: str) -> BinaryIO:
        return io.BufferedReader(_RangedObject(self.s3, self.bucket, prefix + key), READ_AHEAD)  # type: ignore[return-value]

    def describe(self, prefix: str, key: str = "") -> str:
        return f"s3://{self.bucket}/{prefix}{key}"


class _RangedObject(io.RawIOBase):
    """A read-only, seekable view of one S3 object; each read is one ranged GET."""

    def __init__(self, s3: Any, bucket: str, key: str):
        self.s3, self.bucket, self.key = s3, bucket, key
        self.size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.size - self.position)
        if wanted <= 0:
            return 0
        end = self.position + wanted - 1
        body = self.s3.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={self.position}-{end}")
        data = body["Body"].read()
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


# -- Hive-style partitions --------------------------------------------------------------------

# Hive writes a null partition value as this directory name, and escapes other special
# characters in values as %XX (Hive's FileUtils.escapePathName).
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def partition_values(key: str, names: list[str]) -> tuple[list[str | None], str]:
    """The values of the partition keys `names` in an object's path (`a=1/b=x/file`), and "" or
    what is wrong with the path."""
    from urllib.parse import unquote

    parts = key.split("/")[:-1]
    if len(parts) != len(names):
        layout = "/".join(f"{n}=<value>" for n in names) or "no folders"
        return [], f"expected {layout} before the file name"
    values: list[str | None] = []
    for part, name in zip(parts, names, strict=True):
        found, sep, value = part.partition("=")
        if not sep or found != name:
            return [], f"folder {part!r} is not {name}=<value>"
        values.append(None if value == HIVE_NULL else unquote(value))
    return values, ""
