"""The documentation as a site: README.md is the short front page, docs/ holds the rest.

README.md stays at most 250 lines; every relative Markdown link in README.md and docs/**/*.md
resolves to a file (and, when it names an anchor, to a heading of that file); every docs page is
reachable from README.md by following links; every repository path named in backticks exists.
"""

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 250

# Backticked text starting with one of these is a repository path and must exist.
PATH_PREFIXES = (
    "functions/",
    "layers/",
    "glue/",
    "statemachines/",
    "athena/",
    "events/",
    "tests/",
    "scripts/",
    "benchmarks/",
    "tools/",
    "config/",
    "docs/",
    "local_runtime/",
    "dev/",
)
# Placeholders and globs (`functions/<fn>/`, `athena/pipeline_metrics/*.sql`, `${...}`) name no
# single file.
PLACEHOLDER_CHARACTERS = ("<", "*", "{")

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _prose_lines(text: str) -> Iterator[str]:
    """The lines outside fenced code blocks: a fence shows text, it links nothing."""
    in_fence = False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield line


def _links(text: str) -> list[str]:
    """Every Markdown link target outside code (fenced blocks and inline spans)."""
    targets: list[str] = []
    for line in _prose_lines(text):
        targets.extend(LINK.findall(INLINE_CODE.sub("code", line)))
    return targets


@functools.cache
def _relative_links(page: Path) -> list[tuple[Path, str]]:
    """(target file, anchor) of each relative link of a page; external links are left out."""
    found: list[tuple[Path, str]] = []
    for target in _links(page.read_text(encoding="utf-8")):
        if SCHEME.match(target):
            continue  # https:, mailto:...
        path, _, anchor = target.partition("#")
        found.append(((page.parent / path).resolve() if path else page, anchor))
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@functools.cache
def _anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2... as on GitHub."""
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.add(base if count == 0 else f"{base}-{count}")
    return anchors


def _backticked_paths(page: Path) -> list[str]:
    """Inline code spans of a page's prose that name a repository path (no placeholder)."""
    paths: list[str] = []
    for line in _prose_lines(page.read_text(encoding="utf-8")):
        for _, span in INLINE_CODE.findall(line):
            text = span.strip()
            if any(character.isspace() for character in text):
                continue  # a command or a phrase, not a path
            if not text.startswith(PATH_PREFIXES):
                continue
            if any(character in text for character in PLACEHOLDER_CHARACTERS):
                continue
            paths.append(text)
    return paths


# ------------------------------------------------------------------ the helpers themselves


def test_slug_drops_punctuation_and_code_marks_as_github_does() -> None:
    # Given headings with code, a colon, an arrow and parentheses
    # When they are turned into anchors
    anchors = [
        slug("Where is X: capability → paths"),
        slug("Sample events and `make invoke`"),
        slug("CDC to Iceberg (DynamoDB Streams → Athena MERGE)"),
    ]
    # Then each is what GitHub links to
    assert anchors == [
        "where-is-x-capability--paths",
        "sample-events-and-make-invoke",
        "cdc-to-iceberg-dynamodb-streams--athena-merge",
    ]


def test_links_inside_code_are_not_links() -> None:
    # Given a page with a link in prose, one in inline code and one in a fenced block
    text = "[a](a.md) and `[b](b.md)`\n```\n[c](c.md)\n```\n[d](d.md#part)\n"
    # When its links are read
    targets = _links(text)
    # Then only the prose links count
    assert targets == ["a.md", "d.md#part"]


# ------------------------------------------------------------------ the documentation


def test_readme_is_at_most_250_lines() -> None:
    # Given the front page
    lines = README.read_text(encoding="utf-8").splitlines()
    # Then it stays short: the detail lives under docs/
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


@pytest.mark.parametrize("page", _pages(), ids=_name)
def test_every_relative_link_resolves_to_a_file(page: Path) -> None:
    # Given a page's relative links
    links = _relative_links(page)
    # Then each names a file or folder of the repository
    missing = [str(target) for target, _ in links if not target.exists()]
    assert missing == [], f"{_name(page)} links to missing files: {missing}"


@pytest.mark.parametrize("page", _pages(), ids=_name)
def test_every_anchor_names_a_heading_of_its_page(page: Path) -> None:
    # Given a page's links that name an anchor in a Markdown page
    anchored = [
        (target, anchor)
        for target, anchor in _relative_links(page)
        if anchor and target.suffix == ".md" and target.is_file()
    ]
    # Then the target page has a heading with that anchor
    broken = [f"{_name(t)}#{a}" for t, a in anchored if a not in _anchors(t)]
    assert broken == [], f"{_name(page)} links to missing headings: {broken}"


def test_every_docs_page_is_reachable_from_the_readme() -> None:
    # Given every page under docs/
    pages = set(DOCS.rglob("*.md"))
    assert pages, "docs/ holds no page"
    # When links are followed from README.md, page to page
    reached: set[Path] = set()
    todo = [README.resolve()]
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        todo.extend(
            target
            for target, _ in _relative_links(page)
            if target.suffix == ".md" and target.is_file()
        )
    # Then every docs page was reached
    unreached = sorted(_name(page) for page in pages if page.resolve() not in reached)
    assert unreached == [], f"pages no link leads to from README.md: {unreached}"


@pytest.mark.parametrize("page", _pages(), ids=_name)
def test_every_backticked_repository_path_exists(page: Path) -> None:
    # Given the repository paths a page names in backticks
    paths = _backticked_paths(page)
    # Then each exists
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == [], f"{_name(page)} names paths that do not exist: {missing}"
