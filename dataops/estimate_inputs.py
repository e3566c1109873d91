"""The plans an estimate reads: a stack's plan, the region its prices apply to and, for a
sandbox, the host plan whose nodes it runs on.

`estimate` (one stack or all of them), `diff`'s cost line and the generated cost table in
docs/costs.md (`python -m dataops docs`) all take their inputs from here, so the table in the
docs is the table the command prints.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import yaml

from dataops import estimate, stack_files
from dataops.plan import Plan, build_plan, build_plans, load_config

# The sandbox `estimate --all-stacks` shows: any sandbox renders to the same shape.
EXAMPLE_SANDBOX = "sandbox-example"
# A fixed time: the same sandbox renders the same stack file, so its plan is cached.
RENDERED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def region_and_host(stack: str, root: Path, config: Path | None = None) -> tuple[str, Plan | None]:
    """Where a stack's prices apply, and (sandboxes) the host plan whose nodes it runs on."""
    cfg = load_config(stack, root, config)[1]
    return cfg.region, build_plan(cfg.host_stack, root) if cfg.environment == "sandbox" else None


def stack_inputs(stack: str, root: Path, config: Path | None) -> tuple[Plan, str, Plan | None]:
    """A stack's plan, region and (sandboxes) host plan. A sandbox without a stack file is
    rendered from the template, so what any sandbox would cost can be shown before one exists."""
    if config is None and stack.startswith("sandbox-") and not (root / f"Pulumi.{stack}.yaml").exists():
        from dataops import sandbox

        rendered = sandbox.render(root, stack, "estimate", None, RENDERED_AT)
        with tempfile.TemporaryDirectory(prefix="dataops-estimate-") as tmp:
            config = Path(tmp) / f"Pulumi.{stack}.yaml"
            config.write_text(yaml.safe_dump(rendered.document))
            return stack_inputs(stack, root, config)
    return (build_plan(stack, root, config), *region_and_host(stack, root, config))


def summary_rows(root: Path, tables: estimate.Tables) -> list[tuple[str, estimate.Cost, estimate.DeployTime]]:
    """One row per environment and one for a sandbox: what `estimate --all-stacks` shows."""
    environments = stack_files.known_stacks(root)
    build_plans(environments, root)  # in parallel; the loop below reuses them
    rows = []
    for stack in [*environments, EXAMPLE_SANDBOX]:
        plan, region, host = stack_inputs(stack, root, None)
        rows.append((stack, estimate.cost(plan, tables, region, host), estimate.deploy_time(plan, tables)))
    return rows
