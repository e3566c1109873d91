"""The units the config is written in: Kubernetes CPU and memory quantities, and times."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

# Kubernetes quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/):
# the one parser of CPU and memory sizes, for the config's checks and the estimate's arithmetic.
CPU_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_MEMORY_FACTOR = {  # to GiB
    None: 2**-30, "Ki": 2**-20, "Mi": 2**-10, "Gi": 1.0, "Ti": 2**10, "Pi": 2**20, "Ei": 2**30,
    "k": 1e3 / 2**30, "M": 1e6 / 2**30, "G": 1e9 / 2**30,
    "T": 1e12 / 2**30, "P": 1e15 / 2**30, "E": 1e18 / 2**30,
}  # fmt: skip


def cpu_cores(value: str) -> float | None:
    """A Kubernetes CPU quantity (`500m`, `2`) in cores; None if it is not one."""
    match = CPU_QUANTITY.match(value.strip())
    return None if not match else float(match.group(1)) * (1e-3 if match.group(2) else 1.0)


def memory_gib(value: str) -> float | None:
    """A Kubernetes memory quantity (`4Gi`, `512M`, `1073741824`) in GiB; None if it is not one."""
    match = MEMORY_QUANTITY.match(value.strip())
    return None if not match else float(match.group(1)) * _MEMORY_FACTOR[match.group(2)]


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time with its UTC offset (`2026-11-28T18:00:00Z`); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
