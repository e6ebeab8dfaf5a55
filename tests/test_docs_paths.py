"""Every file path README.md and docs/ mention exists, so a reader (or a move of the code) finds no dead end.

Checked: inline code that starts at a top folder of the repository (`src/...`, `dev/...`, `deploy/...`,
`docs/...`, `benchmarks/...`, `tests/...`), or at a top folder of the layout before src/ (`firmware_sim/`,
`collectors/`, ...: gone, so a mention fails), or at a package (`edge_gateway/...`, looked up under src/
and dev/src/); the same top-folder paths in code blocks (a diagram's relative names are not checked); and
relative links with their `#anchors`. `*` and a `<placeholder>` are wildcards that must match something,
`{a,b}` gives two paths, a trailing `/` wants a folder, and `file.py::test_name` wants that test in it.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = r"src|dev|deploy|docs|benchmarks|tests|\.ci"
OLD_TOP = "bridge|collectors|dashboards|drivers|firmware_sim"
PACKAGES = {"edge_gateway": ROOT / "src", "edge_gateway_dev": ROOT / "dev" / "src"}
IN_CODE_BLOCK = re.compile(rf"^(?:\./)?(?:{TOP})/\S*$")
INLINE = re.compile(
    rf"^(?:\./)?(?:{TOP}|{OLD_TOP}|{'|'.join(PACKAGES)})/\S*$"
    r"|^edge/\S*\.(?:py|toml|ya?ml|json)$"  # the old package; edge/+/data and the like are MQTT topics
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def mentions() -> list[tuple[str, str]]:
    """(doc:line, path) for each path the docs mention; a link as (doc:line, 'link:target')."""
    found = []
    for doc in DOCS:
        fenced = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{doc.relative_to(ROOT)}:{number}"
            if line.startswith("```"):
                fenced = not fenced
                continue
            if fenced:
                words = [word.strip("\"'(),;") for word in line.split()]
                found += [(where, word) for word in words if IN_CODE_BLOCK.match(word)]
                continue
            spans = [span.strip() for span in re.findall(r"`([^`]+)`", line)]
            found += [(where, span) for span in spans if INLINE.match(span)]
            links = [target for target in LINK.findall(line) if not re.match(r"[a-z]+:|#", target)]
            found += [(where, f"link:{target}") for target in links]
    return found


def expand(path: str) -> list[str]:
    """`a/{b,c}/d` -> `a/b/d`, `a/c/d`."""
    parts = re.split(r"\{([^{}]*)\}", path)
    choices = [[part] if i % 2 == 0 else [c.strip() for c in part.split(",")] for i, part in enumerate(parts)]
    return ["".join(combo) for combo in itertools.product(*choices)]


def anchors(doc: Path) -> set[str]:
    """GitHub's ids of the headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.*?)\s*$", doc.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def link_problem(doc: Path, target: str) -> str | None:
    """What is wrong with a link of `doc` (relative to its folder), or None."""
    name, _, anchor = target.partition("#")
    linked = doc.parent / name if name else doc
    if not linked.exists():
        return f"no such file: {linked.relative_to(ROOT)}"
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
        return f"no heading #{anchor} in {linked.relative_to(ROOT)}"
    return None


def path_problem(mention: str) -> str | None:
    """What is wrong with a mentioned path (each of its brace expansions), or None."""
    for path in expand(mention.removeprefix("./")):
        path, _, test = path.partition("::")
        top, _, rest = path.partition("/")
        base = PACKAGES[top] / top if top in PACKAGES else ROOT / top
        pattern = re.sub(r"<[^<>]*>", "*", rest)
        found = [m for m in (base.glob(pattern) if "*" in pattern else [base / pattern]) if m.exists()]
        if path.endswith("/"):
            found = [m for m in found if m.is_dir()]
        if not found:
            return f"no such {'folder' if path.endswith('/') else 'path'}: {path}"
        defines = re.compile(rf"^\s*(async )?def {re.escape(test)}\(", re.MULTILINE)
        if test and not any(defines.search(m.read_text(encoding="utf-8")) for m in found):
            return f"no test {test} in {path}"
    return None


MENTIONS = mentions()


def test_the_docs_mention_paths_at_all() -> None:
    assert len(MENTIONS) > 100  # the extraction works: the docs cite the code and the tests throughout


@pytest.mark.parametrize(("where", "mention"), MENTIONS, ids=[f"{w}-{m}" for w, m in MENTIONS])
def test_every_path_in_the_docs_exists(where: str, mention: str) -> None:
    doc = ROOT / where.partition(":")[0]
    link = mention.removeprefix("link:")
    problem = link_problem(doc, link) if link != mention else path_problem(mention)
    assert problem is None, f"{where}: `{mention}`: {problem}"
