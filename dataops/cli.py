"""Command line: `python -m dataops plan|validate ...`.

User mistakes (bad config, unknown stack, unreadable files) exit 2 with one line per problem
on stderr and no traceback; a failure inside the program itself is a bug and shows one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from dataops import stack_files
from dataops.plan import ROOT, Plan, PlanError, build_plan
from dataops.stacks import check_all

EXIT_USAGE = 2


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


def cmd_verify(args: argparse.Namespace) -> int:
    from dataops.verify import VerifyError, run_verify

    try:
        checks = run_verify(
            args.stack,
            Path(args.outputs) if args.outputs else None,
            args.endpoint_url,
            write_probe=args.probe,
        )
    except VerifyError as exc:
        raise PlanError([str(exc)]) from None
    for check in checks:
        print(check)
    failed = sum(not c.ok for c in checks)
    print(f"{args.stack}: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_diff(args: argparse.Namespace) -> int:
    from dataops.diff import Diff, diff, render_json, render_markdown, render_text

    if args.base:
        from dataops.revision import checkout, plan_at

        if not (args.stack or args.all_stacks) or args.a or args.b:
            raise PlanError(["diff --base REF takes --stack S or --all-stacks, not two stack names"])
        with checkout(args.root, args.base) as tree:
            at_base = set(stack_files.known_stacks(tree))
            stacks = (
                sorted(set(stack_files.known_stacks(args.root)) | at_base)
                if args.all_stacks
                else [args.stack]
            )
            diffs = []
            for stack in stacks:
                if stack not in at_base:
                    continue  # a new stack: nothing to compare with
                before = plan_at(tree, stack, args.base)
                after = build_plan(stack, args.root)
                d = diff(before, after)
                diffs.append(Diff(f"{stack}@{args.base}", f"{stack} (working tree)", d.resources))
    else:
        if not (args.a and args.b):
            raise PlanError(["diff takes two stacks (e.g. `diff dev prod`), or --stack S --base REF"])
        diffs = [diff(build_plan(args.a, args.root), build_plan(args.b, args.root))]
    for d in diffs:
        if args.format == "json":
            print(render_json(d))
        elif args.format == "markdown":
            print(render_markdown(d))
        else:
            print(render_text(d, colour=sys.stdout.isatty()))
    return 0


def cmd_parity(args: argparse.Namespace) -> int:
    from dataops.parity import PAIRS, load_allowances, violations

    allowances = load_allowances(args.root / "parity.yaml")
    plans = {stack: build_plan(stack, args.root) for stack in sorted({s for pair in PAIRS for s in pair})}
    problems = violations(plans, allowances)
    for line in problems:
        print(f"parity: {line}")
    print(
        f"parity: {len(problems)} undeclared differences between dev, test and prod "
        f"({len(allowances)} declared in parity.yaml)"
    )
    return 1 if problems else 0


def cmd_validate(args: argparse.Namespace) -> int:
    problems = check_all(args.root)
    if problems:
        raise PlanError(problems)
    print(f"ok: {', '.join(stack_files.known_stacks(args.root))} are valid and agree on one lake owner")
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

    policy = sub.add_parser("policy", help="run the policy pack's rules on a stack's offline plan")
    policy.add_argument("--stack", required=True, help="stack name, e.g. prod")
    policy.add_argument("--config", help="read this file instead of Pulumi.<stack>.yaml")
    policy.set_defaults(func=cmd_policy)

    verify = sub.add_parser("verify", help="check the deployed data lake through the AWS API")
    verify.add_argument("--stack", required=True, help="the stack that owns the lake, e.g. prod")
    verify.add_argument("--outputs", help="a file written by `pulumi stack output --json` (default: run it)")
    verify.add_argument("--endpoint-url", help="S3 endpoint (default: AWS_ENDPOINT_URL or AWS)")
    verify.add_argument(
        "--probe",
        action="store_true",
        help="also try real uploads (writes a few bytes under _dataops-verify/ per bucket)",
    )
    verify.set_defaults(func=cmd_verify)

    compare = sub.add_parser("diff", help="what differs between two stacks' offline plans")
    compare.add_argument("a", nargs="?", help="stack, e.g. dev")
    compare.add_argument("b", nargs="?", help="stack, e.g. prod")
    compare.add_argument("--stack", help="with --base: the stack whose changes to show")
    compare.add_argument("--base", help="git revision to compare the working tree with, e.g. origin/main")
    compare.add_argument("--all-stacks", action="store_true", help="with --base: every stack")
    compare.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    compare.set_defaults(func=cmd_diff)

    parity = sub.add_parser("parity", help="dev, test and prod differ only as parity.yaml declares")
    parity.set_defaults(func=cmd_parity)

    check = sub.add_parser("validate", help="validate every stack file and the rules across stacks")
    check.set_defaults(func=cmd_validate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except PlanError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
