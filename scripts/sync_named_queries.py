"""Copies each Athena named query's SQL file into template.yaml: the file is the one to edit.

CloudFormation cannot read a file for an AWS::Athena::NamedQuery's QueryString, so the text has
to be in the template as well. The source is the file under athena/<capability>/ (what the query
tests run, and what an editor shows as SQL); the comment right above each NamedQuery names it:

    # QueryString: athena/monitoring/failures_by_service.sql (make named-queries)
    FailuresByServiceQuery:
      Type: AWS::Athena::NamedQuery
      Properties:
        ...
        QueryString: |
          <the file, indented>

The QueryString is the file's text exactly, byte for byte. Of a `QueryString: !Sub |` block the
file holds the !Sub text itself, `${...}` placeholders and all (the same raw string on both sides,
nothing resolved). Only the lines of each QueryString block are rewritten: every other byte of the
template stays as it was (the YAML is never loaded and dumped again, which would lose comments and
layout). The result is then parsed to prove each QueryString reads back as its file.
tests/unit/test_named_queries.py fails when a block and its file differ.

Usage: python scripts/sync_named_queries.py            rewrite the QueryString blocks
       python scripts/sync_named_queries.py --check    exit 1 if a block differs from its file
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
NAMED_QUERY = "AWS::Athena::NamedQuery"
STALE_MESSAGE = "run make named-queries (scripts/sync_named_queries.py) and commit template.yaml"

_TOP_LEVEL_KEY = re.compile(r"[^\s#]")
_RESOURCE_KEY = re.compile(r"  ([A-Za-z0-9]+):\s*(?:#.*)?$")
_COMMENT = re.compile(r"  #")
_SOURCE = re.compile(r"#\s*QueryString:\s*(athena/\S+\.sql)\b")
_TYPE = re.compile(r"    Type:\s*(\S+)\s*$")
_QUERY_STRING = re.compile(r"( +)QueryString:(.*)$")
_LITERAL_BLOCK = re.compile(r"\s*(?:!Sub\s+)?\|\s*$")


class SyncError(Exception):
    """The template or a query file cannot be synced as it is."""


@dataclass(frozen=True)
class NamedQuery:
    logical_id: str
    source: str  # the SQL file, relative to the repository root
    body_start: int  # index of the QueryString block's first line
    body_end: int  # index after its last non-blank line
    indent: int  # of the block's lines


def _resource_spans(lines: list[str]) -> list[tuple[str, int, int]]:
    """(logical id, index of its key line, index after its last line) of each resource."""
    try:
        start = next(i for i, line in enumerate(lines) if line.rstrip() == "Resources:") + 1
    except StopIteration:
        raise SyncError("template.yaml has no Resources section") from None
    end = next((i for i in range(start, len(lines)) if _TOP_LEVEL_KEY.match(lines[i])), len(lines))
    keys = [(i, m.group(1)) for i in range(start, end) if (m := _RESOURCE_KEY.match(lines[i]))]
    bounds = [i for i, _ in keys[1:]] + [end]
    return [(name, i, stop) for (i, name), stop in zip(keys, bounds, strict=True)]


def _source_of(lines: list[str], key_line: int) -> str | None:
    """The SQL file named by the comment block right above a resource's key line."""
    sources: list[str] = []
    i = key_line - 1
    while i >= 0 and _COMMENT.match(lines[i]):
        sources += _SOURCE.findall(lines[i])
        i -= 1
    if len(sources) > 1:
        raise SyncError(f"{lines[key_line].strip()} names more than one QueryString file")
    return sources[0] if sources else None


def _query_string_block(lines: list[str], logical_id: str, start: int, stop: int) -> range:
    """The indices of a resource's QueryString block, header included."""
    headers = [
        (i, m) for i in range(start, stop) if (m := _QUERY_STRING.match(lines[i].rstrip("\r\n")))
    ]
    if len(headers) != 1:
        raise SyncError(f"{logical_id}: expected one QueryString, found {len(headers)}")
    header, match = headers[0]
    if not _LITERAL_BLOCK.fullmatch(match.group(2)):
        raise SyncError(
            f"{logical_id}: QueryString must be a literal block, `QueryString: |` or"
            f" `QueryString: !Sub |`, not {match.group(2).strip()!r}"
        )
    key_indent = len(match.group(1))
    end = header + 1
    for i in range(header + 1, stop):
        line = lines[i]
        if line.strip() and len(line) - len(line.lstrip(" ")) <= key_indent:
            break
        if line.strip():
            end = i + 1  # blank lines after the last text line belong to the layout
    return range(header, end)


def named_queries(template: str) -> list[NamedQuery]:
    """Every NamedQuery of the template with its SQL file and QueryString block, in order."""
    lines = template.splitlines(keepends=True)
    found: list[NamedQuery] = []
    for logical_id, start, stop in _resource_spans(lines):
        kinds = [m.group(1) for i in range(start, stop) if (m := _TYPE.match(lines[i]))]
        source = _source_of(lines, start)
        if kinds != [NAMED_QUERY]:
            if source is not None:
                raise SyncError(f"{logical_id} is not a {NAMED_QUERY} but names {source}")
            continue
        if source is None:
            raise SyncError(
                f"{logical_id}: no `# QueryString: athena/<capability>/<name>.sql` comment"
                " right above it: its SQL belongs in a file under athena/"
            )
        block = _query_string_block(lines, logical_id, start, stop)
        indent = len(lines[block.start]) - len(lines[block.start].lstrip(" ")) + 2
        found.append(NamedQuery(logical_id, source, block.start + 1, block.stop, indent))
    return found


def _block_lines(sql: str, source: str, indent: int, newline: str) -> list[str]:
    """The file's text as the lines of a literal block (`|`) that reads back as exactly that."""
    if not sql.strip():
        raise SyncError(f"{source} is empty")
    if "\r" in sql:
        raise SyncError(f"{source}: use \\n line endings")
    if not sql.endswith("\n") or sql.endswith("\n\n"):
        raise SyncError(f"{source} must end with exactly one newline (a `|` block keeps one)")
    if sql[0].isspace():
        raise SyncError(f"{source} must start with text, not blank space")
    return [f"{' ' * indent}{line}{newline}" if line else newline for line in sql.split("\n")[:-1]]


def _read(path: Path) -> str:
    """A file's text as stored: no newline translation."""
    return path.read_bytes().decode("utf-8")


@dataclass(frozen=True)
class _Plan:
    """The template's lines, and each NamedQuery with its file's text and the block's lines
    that text gives: read once, then checked (``stale``) or written (``sync``)."""

    lines: list[str]
    queries: list[tuple[NamedQuery, str, list[str]]]

    def stale(self) -> list[str]:
        return [
            q.logical_id
            for q, _, body in self.queries
            if self.lines[q.body_start : q.body_end] != body
        ]

    def synced(self) -> str:
        lines = list(self.lines)
        for query, _, body in reversed(self.queries):  # from the end: earlier indices stay valid
            lines[query.body_start : query.body_end] = body
        synced = "".join(lines)
        _verify(synced, {query.logical_id: text for query, text, _ in self.queries})
        return synced


def _plan(template: str, root: Path) -> _Plan:
    lines = template.splitlines(keepends=True)
    queries: list[tuple[NamedQuery, str, list[str]]] = []
    for query in named_queries(template):
        path = root / query.source
        if not path.is_file():
            raise SyncError(f"{query.logical_id}: {query.source} does not exist")
        header = lines[query.body_start - 1]
        newline = header[len(header.rstrip("\r\n")) :] or "\n"
        text = _read(path)
        queries.append((query, text, _block_lines(text, query.source, query.indent, newline)))
    return _Plan(lines, queries)


def stale(template: str, root: Path = ROOT) -> list[str]:
    """The NamedQueries whose QueryString block is not their file's text."""
    return _plan(template, root).stale()


def sync(template: str, root: Path = ROOT) -> str:
    """The template with every NamedQuery's QueryString block replaced by its file's text."""
    return _plan(template, root).synced()


def _verify(template: str, sources: dict[str, str]) -> None:
    """Parses the written template: each QueryString reads back as its file, and no NamedQuery
    escaped the text scan."""
    from samcli.yamlhelper import yaml_parse  # noqa: PLC0415 - understands !Sub and friends

    resources = yaml_parse(template)["Resources"]
    parsed = {
        logical_id: resource["Properties"]["QueryString"]
        for logical_id, resource in resources.items()
        if resource.get("Type") == NAMED_QUERY
    }
    if parsed.keys() != sources.keys():
        raise SyncError(f"NamedQuery resources {sorted(parsed)} but scanned {sorted(sources)}")
    for logical_id, value in parsed.items():
        text = value.get("Fn::Sub") if isinstance(value, dict) else value
        if text != sources[logical_id]:
            raise SyncError(f"{logical_id}: the written QueryString does not read back as its file")


def main(arguments: list[str]) -> int:
    if arguments not in ([], ["--check"]):
        print("usage: sync_named_queries.py [--check]", file=sys.stderr)
        return 2
    current = _read(TEMPLATE)
    try:
        plan = _plan(current, ROOT)
        synced, differing = plan.synced(), plan.stale()
    except SyncError as error:
        print(f"sync_named_queries: {error}", file=sys.stderr)
        return 1
    if arguments == ["--check"]:
        if not differing:
            return 0
        print(f"not their files' text: {', '.join(differing)}: {STALE_MESSAGE}", file=sys.stderr)
        return 1
    if differing:
        TEMPLATE.write_bytes(synced.encode("utf-8"))
        print(f"template.yaml: QueryString rewritten from its file: {', '.join(differing)}")
    else:
        print("template.yaml: every QueryString is its file's text already")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
