"""`python -m dataops quality --stack S`: check the declared datasets' data against their rules,
the same rules the Glue Data Quality rulesets hold (components/dqdl.py), where the data is.

Which datasets: those the lake's owner declares (`lake.datasets`); a stack that owns a lake but
declares none (the local stack) is checked against the cloud lake owner's declarations, so a
laptop gives the verdict prod's rules give. Where the data is: the zone buckets of the lake the
stack reads (`<namePrefix>-<owner stack>-<zone>-<account>-<region>`, the account from STS) on AWS,
on `--endpoint-url` / AWS_ENDPOINT_URL (the local stack's endpoint, a moto server), or, with
`--data DIR`, a directory laid out like the lake (`DIR/<zone>/<prefix>...`).

First every object's footer is read: a path that is not `<key>=<value>/` per partition key, an
object that is not Parquet, a missing column or one of another type is bad input (exit 2, one
line per problem, naming the column and the first object). Then the rows are read row group by
row group, only the columns the rules need, and each rule is judged (dataops/quality_rules.py):
exit 0 when every rule holds, 1 with one FAIL line per failed rule naming the dataset, the rule
and what was observed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import DatasetConfig, StackConfig
from components.dqdl import rules_of
from dataops.lake_files import LakeFileError, LocalSource, S3Source, Source, partition_values
from dataops.quality_rules import Evaluator, Verdict, partition_column, partition_value_problem, type_matches


class QualityError(Exception):
    """Bad input: one line per problem, exit 2."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass
class Checked:
    dataset: str
    location: str
    objects: int
    rows: int
    verdicts: list[Verdict] = field(default_factory=list)


# -- which datasets, and where their data is -------------------------------------------------------


def declarations(root: Path, stack: str) -> tuple[StackConfig, list[DatasetConfig]]:
    """The config of the lake `stack` reads (its own, or its owner's) and the datasets to check."""
    from dataops import stack_files
    from dataops.plan import load_config

    cfg = load_config(stack, root)[1]
    lake = cfg if cfg.lake.role == "owner" else load_config(cfg.owner_stack, root)[1]
    if lake.datasets:
        return lake, lake.datasets
    for other in stack_files.known_stacks(root):
        owner = load_config(other, root)[1]
        if owner.owns_cloud_lake and owner.datasets:
            return lake, owner.datasets
    raise QualityError(
        ["no stack declares datasets; fix: declare them under lake.datasets of the lake owner's stack file"]
    )


def selected(datasets: list[DatasetConfig], name: str | None) -> list[DatasetConfig]:
    if name is None:
        return datasets
    found = [d for d in datasets if d.name == name]
    if not found:
        known = ", ".join(d.name for d in datasets)
        raise QualityError([f"--dataset {name}: not a declared dataset; fix: use one of {known}"])
    return found


def zone_sources(
    lake: StackConfig, zones: Iterable[str], endpoint_url: str | None, data: Path | None
) -> dict[str, Source]:
    missing = sorted(set(zones) - set(lake.zones))
    if missing:
        raise QualityError(
            [
                f"the {lake.stack} lake has no zone {zone}; fix: add it to lake.zones in "
                f"Pulumi.{lake.stack}.yaml, as the lake owner has it"
                for zone in missing
            ]
        )
    if data is not None:
        if not data.is_dir():
            raise QualityError(
                [f"--data {data}: not a directory; fix: pass a folder holding <zone>/<prefix>/..."]
            )
        return {zone: LocalSource(data / zone) for zone in zones}
    s3, account = _clients(lake.region, endpoint_url)
    return {zone: S3Source(s3, f"{lake.physical_name(zone)}-{account}-{lake.region}") for zone in zones}


def _clients(region: str, endpoint_url: str | None) -> tuple[Any, str]:
    """An S3 client, and the account the lake's bucket names end in (the caller's: consumers
    live in the owner's account)."""
    import boto3
    import botocore.exceptions as bce
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3})
    try:
        account = boto3.client("sts", region_name=region, endpoint_url=endpoint_url, config=config)
        account_id = account.get_caller_identity()["Account"]
    except bce.NoCredentialsError:
        raise QualityError(
            [
                "no AWS credentials found; fix: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY)"
            ]
        ) from None
    except (bce.EndpointConnectionError, bce.ConnectTimeoutError) as exc:
        raise QualityError(
            [f"cannot reach {exc.kwargs.get('endpoint_url', exc)}; fix: check the network or --endpoint-url"]
        ) from None
    except bce.ClientError as exc:
        raise QualityError(
            [f"STS refused the credentials ({exc}); fix: use credentials of the lake's account"]
        ) from None
    return boto3.client("s3", region_name=region, endpoint_url=endpoint_url, config=config), account_id


# -- the schema, from the footers -----------------------------------------------------------------


class _Problems:
    """Schema problems, one line per (problem, fix), naming the first object and how many more."""

    def __init__(self, dataset: str):
        self.dataset = dataset
        self.found: dict[tuple[str, str], list[str]] = {}

    def add(self, what: str, where: str, fix: str) -> None:
        self.found.setdefault((what, fix), []).append(where)

    def lines(self) -> list[str]:
        out = []
        for (what, fix), places in self.found.items():
            more = f" (and {len(places) - 1} more objects)" if len(places) > 1 else ""
            out.append(f"{self.dataset}: {what} in {places[0]}{more}; fix: {fix}")
        return out


@dataclass(frozen=True)
class _File:
    key: str
    partitions: list[str | None]
    rows: int


def read_schemas(dataset: DatasetConfig, source: Source) -> list[_File]:
    """Every object's layout and schema against the declaration; QualityError on any problem."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    problems = _Problems(dataset.name)
    keys = [k.name for k in dataset.partition_keys]
    files = []
    for obj in source.objects(dataset.prefix):
        where = source.describe(dataset.prefix, obj.key)
        values, wrong = partition_values(obj.key, keys)
        if wrong:
            problems.add(
                f"the path: {wrong}",
                where,
                f"put the objects under {dataset.prefix}" + "".join(f"{k}=<value>/" for k in keys),
            )
            continue
        for key, value in zip(dataset.partition_keys, values, strict=True):
            if bad := partition_value_problem(key.type, value):
                problems.add(
                    f"partition {key.name}: {bad}", where, f"name the folder {key.name}=<a {key.type}>"
                )
        try:
            with source.open(dataset.prefix, obj.key) as handle:
                meta = pq.ParquetFile(handle)
                schema, rows = meta.schema_arrow, meta.metadata.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            problems.add(
                f"not readable as Parquet ({str(exc).splitlines()[0][:120]})",
                where,
                "rewrite it as Parquet, or move it out of the dataset's prefix",
            )
            continue
        for column in dataset.columns:
            if column.name not in schema.names:
                problems.add(
                    f"column {column.name} ({column.type}) is missing",
                    where,
                    "write the column, or change the dataset's columns in the lake owner's stack file",
                )
            elif not type_matches(column.type, schema.field(column.name).type):
                found = schema.field(column.name).type
                problems.add(
                    f"column {column.name} is {found}, declared {column.type}",
                    where,
                    f"write it as {column.type} (docs/data-quality.md lists the Parquet types), "
                    "or change the declaration",
                )
        for key in dataset.partition_keys:
            if key.name in schema.names:
                problems.add(
                    f"partition key {key.name} is also a column of the file",
                    where,
                    "leave it out of the files: its value comes from the folder name",
                )
        files.append(_File(obj.key, values, rows))
    if problems.found:
        raise QualityError(problems.lines())
    return files


# -- the rows ---------------------------------------------------------------------------------------


def check(dataset: DatasetConfig, source: Source) -> Checked:
    import pyarrow.parquet as pq

    files = read_schemas(dataset, source)
    rules = rules_of(dataset)
    types = dataset.all_columns()
    with tempfile.TemporaryDirectory(prefix="dataops-quality-") as spill:
        evaluator = Evaluator(rules, types, Path(spill), sum(f.rows for f in files))
        wanted = evaluator.columns()
        stored = [c for c in wanted if c in {col.name for col in dataset.columns}]
        for file in files:
            with source.open(dataset.prefix, file.key) as handle:
                parquet = pq.ParquetFile(handle)
                for group in range(parquet.num_row_groups):
                    table = parquet.read_row_group(group, columns=stored)
                    for key, value in zip(dataset.partition_keys, file.partitions, strict=True):
                        if key.name in wanted:
                            table = table.append_column(
                                key.name, partition_column(key.type, value, table.num_rows)
                            )
                    evaluator.add(table)
        verdicts = evaluator.verdicts()
    return Checked(
        dataset.name,
        source.describe(dataset.prefix),
        len(files),
        sum(f.rows for f in files),
        verdicts,
    )


def run_quality(
    root: Path, stack: str, dataset: str | None, endpoint_url: str | None, data: Path | None
) -> list[Checked]:
    import botocore.exceptions as bce

    lake, declared = declarations(root, stack)
    chosen = selected(declared, dataset)
    sources = zone_sources(lake, sorted({d.zone for d in chosen}), endpoint_url, data)
    try:
        return [check(d, sources[d.zone]) for d in chosen]
    except LakeFileError as exc:
        raise QualityError([str(exc)]) from None
    except bce.ClientError as exc:
        error = exc.response.get("Error", {})
        raise QualityError(
            [
                f"S3 answered {error.get('Code')}: {error.get('Message', '')} "
                f"(operation {exc.operation_name}); fix: check that the lake is deployed in this "
                "account and region, and that your credentials may read it"
            ]
        ) from None
    except (bce.EndpointConnectionError, bce.ConnectTimeoutError) as exc:
        raise QualityError([f"cannot reach the S3 endpoint ({exc}); fix: check --endpoint-url"]) from None


# -- the report -----------------------------------------------------------------------------------


def failed(results: list[Checked]) -> int:
    return sum(not v.ok for r in results for v in r.verdicts)


def render(results: list[Checked], fmt: str) -> str:
    total = sum(len(r.verdicts) for r in results)
    bad = failed(results)
    summary = f"quality: {len(results)} datasets, {total - bad} rules passed, {bad} failed"
    if fmt == "json":
        return json.dumps(
            {
                "datasets": [
                    {
                        "dataset": r.dataset,
                        "location": r.location,
                        "objects": r.objects,
                        "rows": r.rows,
                        "rules": [
                            {"rule": v.rule.dqdl(), "ok": v.ok, "observed": v.observed} for v in r.verdicts
                        ],
                    }
                    for r in results
                ],
                "passed": total - bad,
                "failed": bad,
            },
            indent=2,
        )
    if fmt == "markdown":
        rows = [
            f"| {r.dataset} | `{v.rule.dqdl()}` | {'pass' if v.ok else '**FAIL**'} | {v.observed} |"
            for r in results
            for v in r.verdicts
        ]
        return "\n".join(["| dataset | rule | verdict | observed |", "|---|---|---|---|", *rows, "", summary])
    lines = []
    for r in results:
        lines += [
            f"{'PASS' if v.ok else 'FAIL'} {r.dataset}: {v.rule.dqdl()} ({v.observed})" for v in r.verdicts
        ]
        objects = f"{r.objects} object{'' if r.objects == 1 else 's'}"
        lines.append(f"{r.dataset}: {r.rows} rows in {objects} under {r.location}")
    return "\n".join([*lines, summary])
