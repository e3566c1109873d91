"""Command line: `python -m dataops plan|validate ...`.

User mistakes (bad config, unknown stack, unreadable files) exit 2 with one line per problem
on stderr and no traceback; a failure inside the program itself is a bug and shows one.
Two ends of a command are not mistakes and show no traceback either:
- Ctrl-C (SIGINT) prints `error: interrupted` and exits 130, as a shell reports a command
  killed by SIGINT, once the command has stopped what it started: a `diff --base` worktree is
  removed first (`dataops.interrupt`).
- A reader that goes away (`... | head -1`) ends the command silently with exit 141, as a shell
  reports a command killed by SIGPIPE: its output was cut short, so it is not a success.
"""

# size: one short handler per command, each handing the work to the module that does it, and
# the parser that names them; read together they are the command reference.

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import urllib.parse
from collections import Counter
from pathlib import Path

from dataops import interrupt
from dataops.plan import ROOT, build_plan, build_plans
from dataops.plan_types import Plan, PlanError

EXIT_USAGE = 2
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE


def _summary(plan: Plan) -> str:
    root = plan.resources[0]
    lines = [f"{plan.project} / {plan.stack}: {len(plan.resources) - 1} resources (offline plan)"]
    for top in plan.children(root.urn):
        subtree = [top, *plan.descendants(top.urn)]
        lines.append(f"  {top.type}  {top.name}  ({len(subtree)})")
        protected = sum(1 for r in subtree if r.protect)
        counts = Counter(r.type for r in subtree if r is not top)
        for type_, count in sorted(counts.items()):
            lines.append(f"      {count:3d}  {type_}")
        if protected:
            lines.append(f"      protected: {protected} of {len(subtree)}")
    lines.append("outputs: " + (", ".join(sorted(plan.outputs)) or "(none)"))
    lines += [f"warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


def cmd_plan(args: argparse.Namespace) -> int:
    plan = build_plan(args.stack, args.root, Path(args.config) if args.config else None)
    if args.json:
        print(json.dumps(plan.to_dict(), indent=2, sort_keys=False))
    else:
        print(_summary(plan))
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from dataops import bootstrap

    plan = build_plan(args.stack, args.root, Path(args.config) if args.config else None)
    phases = bootstrap.phases(plan)
    if not phases.later:
        raise PlanError(
            [f"{args.stack}: has no Kubernetes objects; a plain `pulumi up --stack {args.stack}` deploys it"]
        )
    print(bootstrap.render(phases))
    return 0


def cmd_policy(args: argparse.Namespace) -> int:
    from dataops.policy import check  # the rules import only when asked for

    plan = build_plan(args.stack, args.root, Path(args.config) if args.config else None)
    violations = check(plan)
    for v in violations:
        print(v)
    mandatory = [v for v in violations if v.rule.enforcement == "mandatory"]
    print(
        f"{plan.stack}: {len(mandatory)} mandatory and {len(violations) - len(mandatory)} advisory violations"
    )
    return 1 if mandatory else 0


def checked_endpoint(given: str | None) -> str | None:
    """--endpoint-url, else AWS_ENDPOINT_URL (which boto3 reads itself), refused as one line
    unless it is an http(s) URL: boto3 raises a bare ValueError on anything else."""
    name, value = (
        ("--endpoint-url", given)
        if given is not None
        else ("AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL"))
    )
    if value is None:
        return None
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PlanError([f"{name} {value!r}: not an http(s) URL; fix: e.g. http://127.0.0.1:4566"])
    return value


def cmd_verify(args: argparse.Namespace) -> int:
    from dataops.verify import VerifyError, run_verify

    try:
        checks = run_verify(
            args.stack,
            Path(args.outputs) if args.outputs else None,
            checked_endpoint(args.endpoint_url),
            write_probe=args.probe,
        )
    except VerifyError as exc:
        raise PlanError([str(exc)]) from None
    for check in checks:
        print(check)
    failed = sum(not c.ok for c in checks)
    print(f"{args.stack}: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_quality(args: argparse.Namespace) -> int:
    from dataops.quality import QualityError, failed, render, run_quality

    try:
        results = run_quality(
            args.root,
            args.stack,
            args.dataset,
            checked_endpoint(args.endpoint_url),
            Path(args.data) if args.data else None,
        )
    except QualityError as exc:
        raise PlanError(exc.lines) from None
    print(render(results, args.format))
    return 1 if failed(results) else 0


def cmd_diff(args: argparse.Namespace) -> int:
    from dataops import diff_report
    from dataops.diff import Diff, diff

    if args.base:
        from dataops import revision, stack_files

        if not (args.stack or args.all_stacks) or args.a or args.b:
            raise PlanError(["diff --base REF takes --stack S or --all-stacks, not two stack names"])
        commit = revision.resolve(args.root, args.base)[0]
        at_base, here = revision.stacks_at(args.root, commit), stack_files.known_stacks(args.root)
        stacks = sorted(set(here) | set(at_base)) if args.all_stacks else [args.stack]
        if not args.all_stacks and args.stack not in here:
            raise PlanError([f"--stack {args.stack}: no Pulumi.{args.stack}.yaml in the working tree"])
        # The base revision's plans run in subprocesses while this process plans the working
        # tree. Its worktree is removed before this command exits; on an error or a Ctrl-C
        # here, the base's subprocesses are stopped first.
        with revision.start(args.root, args.base, [s for s in stacks if s in at_base]) as pending:
            # While the base is still being planned, its subprocess has the other cores (and
            # this process, with the thread that waits for it, does not fork).
            jobs = None if pending.done() else 1
            after = build_plans([s for s in stacks if s in here], args.root, jobs)
            before = pending.result()
        diffs, labels, pairs = [], [], []
        for stack in stacks:
            a = before.get(stack) or Plan("", stack, [], {})  # a stack added since the base
            b = after.get(stack) or Plan("", stack, [], {})  # a stack deleted since the base
            d = diff(a, b)
            label_a = f"{stack}@{args.base}" if stack in before else f"{stack}@{args.base} (absent)"
            label_b = f"{stack} (working tree)" if stack in after else f"{stack} (deleted)"
            diffs.append(Diff(label_a, label_b, d.resources))
            labels.append(stack)
            pairs.append((a, b))
    else:
        if not (args.a and args.b):
            raise PlanError(["diff takes two stacks (e.g. `diff dev prod`), or --stack S --base REF"])
        plans = build_plans([args.a, args.b], args.root)
        a, b = plans[args.a], plans[args.b]
        diffs, labels, pairs = [diff(a, b)], [f"{args.a} -> {args.b}"], [(a, b)]
    report = [
        diff_report.Pair(label, d, delta)
        for label, d, delta in zip(labels, diffs, diff_report.deltas(args.root, pairs), strict=True)
    ]
    intended = args.protected_change_intended
    if args.format == "json":
        print(diff_report.render_json(report, intended))
    elif args.format == "markdown":
        print(diff_report.render_markdown(report, intended))
    else:
        print(diff_report.render_text(report, intended, colour=sys.stdout.isatty()))
    if args.fail_on_protected:
        problems = diff_report.gate(report, intended)
        for line in problems:
            print(f"protected: {line}", file=sys.stderr)
        return 1 if problems else 0
    return 0


def cmd_parity(args: argparse.Namespace) -> int:
    from dataops import parity, stack_files

    declared = parity.load(args.root / "parity.yaml")
    unlisted = declared.unlisted(stack_files.known_stacks(args.root))
    plans = build_plans(list(declared.compare), args.root)
    problems = [*unlisted, *parity.violations(plans, declared)]
    for line in problems:
        print(f"parity: {line}")
    *first, last = declared.compare
    print(
        f"parity: {len(problems) - len(unlisted)} undeclared differences between {', '.join(first)} "
        f"and {last} ({len(declared.allowed)} declared in parity.yaml"
        + (f"; {len(unlisted)} stack(s) not listed)" if unlisted else ")")
    )
    return 1 if problems else 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from dataops import sandbox
    from dataops.sandbox_backend import AutomationBackend, BackendError

    now = datetime.now(UTC)
    # Every argument is checked before the backend (and the Pulumi CLI) is touched.
    rendered = None
    if args.action == "create":
        rendered = sandbox.render(args.root, args.name, args.owner or "", args.ttl, now)
    older = None
    if getattr(args, "older_than", None):
        older = sandbox.parse_ttl(args.older_than, flag="--older-than")
    stack = sandbox.check_name(args.name) if args.action == "destroy" else None
    try:
        backend = AutomationBackend(args.root, on_output=lambda line: print(line, end="", file=sys.stderr))
        if rendered is not None:
            print(sandbox.create(backend, rendered, preview=args.preview))
            return 0
        if args.action == "list":
            print(sandbox.render_list(sandbox.sandboxes(backend), now, args.json))
            return 0
    except BackendError as exc:
        raise PlanError([str(exc)]) from None
    # What may be destroyed is judged by the names the template gives sandboxes.
    scheme = sandbox.naming_scheme(args.root)
    if stack is not None:
        outcomes = [
            sandbox.destroy_one(backend, stack, act=args.yes, scheme=scheme, missing_ok=args.missing_ok)
        ]
    else:
        outcomes = sandbox.reap(backend, now, act=args.yes, scheme=scheme, older_than=older, owner=args.owner)
    print(sandbox.render_outcomes(outcomes, args.format, act=args.yes))
    return 1 if any(o.result in ("refused", "failed") for o in outcomes) else 0


def _assumptions(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            out[key] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise PlanError([f"--assume {pair}: write KEY=NUMBER, e.g. --assume natGbPerMonth=200"])
        # float() also reads nan, inf and negative numbers, which would print as costs.
        if not math.isfinite(out[key]) or out[key] < 0:
            raise PlanError(
                [f"--assume {key}={value}: not a finite number >= 0; fix: e.g. --assume {key}=200"]
            )
    return out


def cmd_estimate(args: argparse.Namespace) -> int:
    from dataops import estimate
    from dataops.estimate_inputs import stack_inputs, summary_rows

    tables = estimate.load_tables(args.root, _assumptions(args.assume or []))
    config = Path(args.config) if args.config else None
    if not args.all_stacks:
        if not args.stack:
            raise PlanError(["estimate takes --stack S (or --all-stacks)"])
        plan, region, host = stack_inputs(args.stack, args.root, config)
        c, d = estimate.cost(plan, tables, region, host), estimate.deploy_time(plan, tables)
        print(estimate.render(plan.stack, c, d, tables, args.format))
        return 0
    print(estimate.render_summary(summary_rows(args.root, tables), tables, args.format))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from dataops import stack_files
    from dataops.stacks import check_all

    problems = check_all(args.root)
    if problems:
        raise PlanError(problems)
    print(f"ok: {', '.join(stack_files.known_stacks(args.root))} are valid and agree on one lake owner")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from dataops import docs

    if args.check:
        stale = docs.stale(args.root)
        for path in stale:
            print(f"docs: {path} is stale; fix: run `{docs.COMMAND}` and commit the result")
        print(f"docs: {len(stale)} of {len(docs.GENERATED)} generated files stale")
        return 1 if stale else 0
    changed = docs.write(args.root)
    for path in changed:
        print(f"docs: wrote {path}")
    print(f"docs: {len(changed)} of {len(docs.GENERATED)} generated files changed")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dataops", description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True)

    plan = sub.add_parser("plan", help="evaluate a stack offline (no CLI, credentials or network)")
    plan.add_argument("--stack", required=True, help="stack name, e.g. dev (reads Pulumi.<stack>.yaml)")
    plan.add_argument("--config", help="read this file instead of Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    plan.set_defaults(func=cmd_plan)

    boot = sub.add_parser("bootstrap", help="the first deploy of a stack: what runs from outside its VPC")
    boot.add_argument("--stack", required=True, help="stack name, e.g. prod")
    boot.add_argument("--config", help="read this file instead of Pulumi.<stack>.yaml")
    boot.set_defaults(func=cmd_bootstrap)

    policy = sub.add_parser("policy", help="run the policy pack's rules on a stack's offline plan")
    policy.add_argument("--stack", required=True, help="stack name, e.g. prod")
    policy.add_argument("--config", help="read this file instead of Pulumi.<stack>.yaml")
    policy.set_defaults(func=cmd_policy)

    verify = sub.add_parser("verify", help="check a deployed stack's buckets through the AWS API")
    verify.add_argument(
        "--stack",
        required=True,
        help="prod (the lake), or a stack with a workspace, e.g. dev or sandbox-alice",
    )
    verify.add_argument("--outputs", help="a file written by `pulumi stack output --json` (default: run it)")
    verify.add_argument("--endpoint-url", help="S3 endpoint (default: AWS_ENDPOINT_URL or AWS)")
    verify.add_argument(
        "--probe",
        action="store_true",
        help="also try real uploads (writes a few bytes under _dataops-verify/ per bucket)",
    )
    verify.set_defaults(func=cmd_verify)

    quality = sub.add_parser("quality", help="check the declared datasets' data against their quality rules")
    quality.add_argument("--stack", required=True, help="whose lake to read, e.g. prod, dev or local")
    quality.add_argument("--dataset", help="only this dataset (default: every declared one)")
    quality.add_argument("--endpoint-url", help="S3 endpoint (default: AWS_ENDPOINT_URL or AWS)")
    quality.add_argument("--data", help="read a folder laid out like the lake (<zone>/<prefix>...) instead")
    quality.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    quality.set_defaults(func=cmd_quality)

    compare = sub.add_parser("diff", help="what differs between two stacks' offline plans")
    compare.add_argument("a", nargs="?", help="stack, e.g. dev")
    compare.add_argument("b", nargs="?", help="stack, e.g. prod")
    compare.add_argument("--stack", help="with --base: the stack whose changes to show")
    compare.add_argument("--base", help="git revision to compare the working tree with, e.g. origin/main")
    compare.add_argument("--all-stacks", action="store_true", help="with --base: every stack")
    compare.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    compare.add_argument(
        "--fail-on-protected",
        action="store_true",
        help="exit 1 when a protected or retained resource would be replaced or deleted",
    )
    compare.add_argument(
        "--protected-change-intended",
        action="store_true",
        help="those replacements or deletions are intended (the pull request's label says so)",
    )
    compare.set_defaults(func=cmd_diff)

    parity = sub.add_parser("parity", help="the stacks parity.yaml compares differ only as it declares")
    parity.set_defaults(func=cmd_parity)

    est = sub.add_parser("estimate", help="monthly cost and from-scratch deploy time of a stack, offline")
    est.add_argument("--stack", help="stack name, e.g. dev; sandbox-<name> works before the sandbox exists")
    est.add_argument("--config", help="read this file instead of Pulumi.<stack>.yaml")
    est.add_argument("--all-stacks", action="store_true", help="one summary row per stack and a sandbox")
    est.add_argument("--assume", action="append", metavar="KEY=NUMBER", help="override a usage assumption")
    est.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    est.set_defaults(func=cmd_estimate)

    box = sub.add_parser("sandbox", help="create, list, reap or destroy sandbox-<name> stacks")
    actions = box.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", help="create sandbox-NAME from sandboxes/template.yaml and deploy it"
    )
    create.add_argument("name", help="1-16 lowercase letters, digits and hyphens")
    create.add_argument(
        "--owner", help="who is responsible (tagged on every resource), e.g. alice@example.com"
    )
    create.add_argument("--ttl", help="lifetime, e.g. 8h, 3d or 1w (default and maximum: the template's)")
    create.add_argument("--preview", action="store_true", help="create the stack but only preview the deploy")
    listing = actions.add_parser("list", help="every sandbox with owner, age, expiry, resources and state")
    listing.add_argument("--json", action="store_true")
    for action, text in (
        ("reap", "destroy expired sandboxes (a dry run unless --yes)"),
        ("destroy", "destroy one sandbox (a dry run unless --yes)"),
    ):
        cmd = actions.add_parser(action, help=text)
        if action == "destroy":
            cmd.add_argument("name", help="the sandbox, e.g. alice or sandbox-alice")
            cmd.add_argument(
                "--missing-ok",
                action="store_true",
                help="a sandbox that does not exist is not an error (e.g. when a pull request closes)",
            )
        else:
            cmd.add_argument("--older-than", help="only sandboxes older than this, e.g. 7d")
            cmd.add_argument("--owner", help="only this owner's sandboxes")
        cmd.add_argument("--yes", action="store_true", help="really destroy (default: only report)")
        cmd.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    box.set_defaults(func=cmd_sandbox)

    check = sub.add_parser("validate", help="validate every stack file and the rules across stacks")
    check.set_defaults(func=cmd_validate)

    docs = sub.add_parser("docs", help="regenerate docs/configuration.md and the cost table in docs/costs.md")
    docs.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 naming each file that is stale"
    )
    docs.set_defaults(func=cmd_docs)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        try:
            with interrupt.handled():
                code = args.func(args)
        except PlanError as exc:
            for line in exc.lines:
                print(f"error: {line}", file=sys.stderr)
            code = EXIT_USAGE
        sys.stdout.flush()  # here, not at exit: a closed pipe is met now, by the handler below
    except BrokenPipeError:
        # What is still buffered for the closed pipe would fail again at the next flush (and
        # at interpreter exit, as "Exception ignored"): from here on stdout goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_CLOSED_PIPE
    return code
