"""What a changed input does to a resource: the provider updates it in place, or replaces it
(creates a new one and deletes the old), per resource type the program declares.

`TABLE` holds one `Rules` per type (`aws`, `kubernetes`, `other`), every entry linking the
upstream source it was read in; a component resource (no provider) is never replaced. `AT_RISK`
names the types whose replacement or deletion loses data or availability, and what is lost.
tests/dataops/test_replacements.py fails when the program declares a type `TABLE` lacks.
"""

from __future__ import annotations

from dataops.replacements import aws, kubernetes, other
from dataops.replacements.model import Forces, Rules, Sides

TABLE: dict[str, Rules] = {**aws.TABLE, **kubernetes.TABLE, **other.TABLE}

AT_RISK: dict[str, str] = {
    "aws:s3/bucket:Bucket": "the objects in the bucket",
    "aws:kms/key:Key": "what is encrypted under the key, once the old key's deletion window ends",
    "aws:eks/cluster:Cluster": "the cluster and every Kubernetes object on it",
    "aws:eks/nodeGroup:NodeGroup": "its nodes: their pods (notebooks, Dask clusters) are evicted",
    "aws:glue/catalogDatabase:CatalogDatabase": "the database's table definitions (the data in S3 stays)",
    "aws:glue/catalogTable:CatalogTable": "the table's schema and partitions (the data in S3 stays)",
    "aws:cloudwatch/logGroup:LogGroup": "the logs in the group (control-plane audit, runner builds)",
    "aws:ecr/repository:Repository": "the images in the repository",
    "aws:ebs/volume:Volume": "the data on the volume",
    "aws:codebuild/project:Project": "the stack's CI runner: a deploy running on it loses its runner",
    "kubernetes:core/v1:Namespace": "every object in the namespace, home volume claims included",
    "kubernetes:core/v1:PersistentVolumeClaim": "the claim's volume (a home directory)",
    "kubernetes:helm.sh/v3:Release": "the release's workloads: uninstalled, then installed again",
    "docker:index/volume:Volume": "the files on the volume (a local lake or home)",
}


def rules_for(type_: str, custom: bool) -> Rules | None:
    """The type's rules; a component's when it has no entry; None for an unknown custom type."""
    if type_ in TABLE:
        return TABLE[type_]
    return None if custom else other.COMPONENT


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def _matches(forces: tuple[Forces, ...], path: str, sides: Sides) -> Forces | None:
    """The first rule that names `path` (or a subtree of it, or a path inside it) and holds."""
    for f in forces:
        if any(_under(path, p) or _under(p, path) for p in f.inputs) and (f.when is None or f.when(sides)):
            return f
    return None


def forcing(rules: Rules, path: str, sides: Sides) -> Forces | None:
    """The rule by which a change at input `path` (no list indices) replaces the resource."""
    return _matches(rules.forces, path, sides)


def refusing(rules: Rules, path: str, sides: Sides) -> Forces | None:
    """The rule by which the service refuses an in-place change at `path`."""
    return _matches(rules.refused, path, sides)


__all__ = ["AT_RISK", "TABLE", "Forces", "Rules", "Sides", "forcing", "refusing", "rules_for"]
