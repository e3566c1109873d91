"""The README stays short and points to docs/, every config key is documented there, every
link in the docs resolves, and CI runs the README's test command."""

from __future__ import annotations

import re
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from components.config import StackConfig
from dataops.plan import ROOT

README_PATH = ROOT / "README.md"
README = README_PATH.read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README_PATH, *DOCS, ROOT / "benchmarks" / "README.md"]
MAX_README_BYTES = 10 * 1024

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
CODE = re.compile(r"`[^`\n]*`")


def test_the_readme_is_short():
    assert len(README.encode()) <= MAX_README_BYTES


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every config key by its path, walked independently of dataops/config_reference.py: a
    nested model's keys under `key.`, a list's items under `key[].`, a mapping's under
    `key.<name>.` (the notation docs/configuration.md explains)."""
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        out.append(key)
        shape, inner = _held(field.annotation)
        if inner is not None:
            out += _keys(inner, f"{key}{shape}.")
    return out


def _held(annotation: Any) -> tuple[str, type[BaseModel] | None]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "", annotation
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list:
        return "[]", _held(args[0])[1]
    if origin is dict:
        return ".<name>", _held(args[1])[1]
    if origin in (Union, types.UnionType):
        return next((h for h in map(_held, args) if h[1] is not None), ("", None))
    return "", None


def test_every_config_key_is_in_the_configuration_reference():
    reference = (ROOT / "docs" / "configuration.md").read_text()
    keys = _keys(StackConfig)
    assert len(keys) > 100 and "cluster.network.vpcCidr" in keys  # the walk reached the leaves
    missing = [k for k in keys if f"`{k}`" not in reference]
    assert missing == []


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README_PATH.parent / target).resolve() for target in _links(README)}
    assert DOCS and [p.name for p in DOCS if p.resolve() not in linked] == []
    assert (ROOT / "benchmarks" / "README.md").resolve() in linked


def _links(markdown: str) -> list[str]:
    """Relative link targets, outside code (where `[--flag](...)` is not a link)."""
    prose = CODE.sub("", FENCE.sub("", markdown))
    return [t for t in LINK.findall(prose) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def _anchors(markdown: str) -> set[str]:
    """Heading anchors as GitHub makes them: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", markdown), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in _links(page.read_text()):
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and (dest.suffix != ".md" or anchor not in _anchors(dest.read_text())):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_link_check_sees_links_and_anchors():
    text = "# A: b\n[x](docs/ci.md) `[not](a-link)` [y](https://e.org) [z](#a-b)\n```\n[no](c.md)\n```"
    assert _links(text) == ["docs/ci.md", "#a-b"]
    assert _anchors(text) == {"a-b"}


def test_ci_runs_the_readme_test_command():
    command = "python3 tasks.py test"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()


def test_first_deploy_creates_the_stack_before_its_secret_and_commits_it_before_the_bootstrap():
    section = README[README.index("## First deploy") : README.index("### On a laptop")]
    order = [
        section.index("pulumi stack init"),
        section.index("pulumi config set --secret oauthClientSecret"),
        section.index("git commit"),
        section.index("pulumi up --stack prod --exclude"),
        section.index("DATAOPS_RUNNERS=true"),
    ]
    assert order == sorted(order)


def test_no_page_but_the_generated_one_quotes_a_cost():
    """A dollar figure copied by hand goes stale with the next price change; the generated
    table in docs/costs.md is the one place figures live (`python -m dataops docs`)."""
    from dataops import docs

    costs = (ROOT / docs.COSTS).read_text()
    begin, end = costs.index(docs.COST_TABLE_BEGIN), costs.index(docs.COST_TABLE_END)
    hand_written = [(p, p.read_text()) for p in PAGES if p != ROOT / docs.COSTS]
    hand_written.append((ROOT / docs.COSTS, costs[:begin] + costs[end:]))
    quoted = [f"{p.relative_to(ROOT)}: {m}" for p, t in hand_written for m in re.findall(r"\$\d[\d,.]*", t)]
    assert quoted == []
