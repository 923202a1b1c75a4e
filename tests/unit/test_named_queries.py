"""Each Athena named query's SQL is written once, in its file under athena/<capability>/:
template.yaml's QueryString is a copy (make named-queries) that must be the file's text exactly."""

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse
from sync_named_queries import STALE_MESSAGE, SyncError, named_queries, stale, sync
from template_support import ROOT, resources

TEMPLATE_TEXT = (ROOT / "template.yaml").read_bytes().decode("utf-8")
SOURCES = {query.logical_id: query.source for query in named_queries(TEMPLATE_TEXT)}


def _query_text(value: Any) -> str:
    """A QueryString as written: a plain string, or the text of a `!Sub |` block."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    assert isinstance(text, str), f"QueryString must be one text, not {value!r}"
    return text


def test_every_named_query_names_its_sql_file(sam_template: dict[str, Any]) -> None:
    # Given the NamedQuery resources the YAML parser sees
    deployed = resources(sam_template, "AWS::Athena::NamedQuery")
    # Then each names a file under athena/<capability>/ in the comment above it, and it exists
    assert sorted(SOURCES) == sorted(deployed)
    for logical_id, source in SOURCES.items():
        assert source.count("/") == 2, f"{logical_id}: {source} is not athena/<capability>/<name>"
        assert (ROOT / source).is_file(), f"{logical_id}: {source} does not exist"


@pytest.mark.parametrize("logical_id", sorted(SOURCES))
def test_query_string_is_its_file_byte_for_byte(
    sam_template: dict[str, Any], logical_id: str
) -> None:
    # Given a named query and the file it names
    query = sam_template["Resources"][logical_id]["Properties"]["QueryString"]
    source = ROOT / SOURCES[logical_id]
    # Then the template deploys exactly the file's text
    expected = source.read_bytes().decode("utf-8")
    assert _query_text(query) == expected, (
        f"{logical_id} differs from {source.name}: {STALE_MESSAGE}"
    )


def test_the_template_is_what_the_sync_writes() -> None:
    # When the QueryString blocks are written from the files / Then nothing changes
    assert stale(TEMPLATE_TEXT) == [], STALE_MESSAGE
    assert sync(TEMPLATE_TEXT) == TEMPLATE_TEXT, STALE_MESSAGE


# ------------------------------------------------------------------ the sync on a small template

TEMPLATE = """\
Resources:
  # QueryString: athena/demo/first.sql (make named-queries)
  FirstQuery:
    Type: AWS::Athena::NamedQuery
    Properties:
      Name: demo - first   # a comment that stays
      Database: !Ref LakeDatabase
      QueryString: |
        SELECT 1


  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: QueryString, Value: "|"}]

  # A query per stack.
  # QueryString: athena/demo/second.sql (make named-queries)
  SecondQuery:
    Type: AWS::Athena::NamedQuery
    Properties:
      Database: !Ref LakeDatabase
      QueryString: !Sub |
        SELECT old
      WorkGroup: !Ref AthenaWorkGroup
Outputs: {}
"""
FIRST = "-- the first\nSELECT a,\n       b\n\nFROM t\n\tWHERE b <> ''\n"
SECOND = "SELECT '${AWS::StackName}' AS stack, '${!literal}' AS text\n"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    (tmp_path / "athena" / "demo").mkdir(parents=True)
    (tmp_path / "athena" / "demo" / "first.sql").write_bytes(FIRST.encode())
    (tmp_path / "athena" / "demo" / "second.sql").write_bytes(SECOND.encode())
    return tmp_path


def test_sync_rewrites_only_the_query_string_blocks(repository: Path) -> None:
    # When the small template is synced from its files
    synced = sync(TEMPLATE, repository)
    # Then the two blocks hold the files, indented; every other line is as it was
    first = "".join(f"        {line}\n" if line else "\n" for line in FIRST.splitlines())
    expected = TEMPLATE.replace("        SELECT 1\n", first).replace(
        "        SELECT old\n", f"        {SECOND}"
    )
    assert synced == expected
    # And the YAML reads back as the files, the !Sub text raw
    parsed = yaml_parse(synced)["Resources"]
    assert parsed["FirstQuery"]["Properties"]["QueryString"] == FIRST
    assert parsed["SecondQuery"]["Properties"]["QueryString"] == {"Fn::Sub": SECOND}
    # And a second sync changes nothing
    assert stale(TEMPLATE, repository) == ["FirstQuery", "SecondQuery"]
    assert stale(synced, repository) == []
    assert sync(synced, repository) == synced


def test_sync_keeps_windows_line_endings_of_the_template(repository: Path) -> None:
    # Given the small template with CRLF line endings
    crlf = TEMPLATE.replace("\n", "\r\n")
    # When synced / Then its lines keep CRLF, the QueryString included
    synced = sync(crlf, repository)
    assert "\n" not in synced.replace("\r\n", "")
    assert yaml_parse(synced)["Resources"]["FirstQuery"]["Properties"]["QueryString"] == FIRST


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("SELECT 1", "exactly one newline"),
        ("SELECT 1\n\n", "exactly one newline"),
        ("  SELECT 1\n", "must start with text"),
        ("SELECT 1\r\n", "line endings"),
        ("\n", "is empty"),
    ],
)
def test_a_file_a_literal_block_cannot_hold_exactly_is_refused(
    repository: Path, content: str, error: str
) -> None:
    # Given a query file a `|` block would not read back as
    (repository / "athena" / "demo" / "first.sql").write_bytes(content.encode())
    # When synced / Then the sync refuses it, naming the file
    with pytest.raises(SyncError, match=error):
        sync(TEMPLATE, repository)


def test_a_named_query_without_a_file_is_refused(repository: Path) -> None:
    # Given a NamedQuery whose SQL is only in the template
    template = TEMPLATE.replace("  # QueryString: athena/demo/first.sql (make named-queries)\n", "")
    # When synced / Then the sync says where its SQL belongs
    with pytest.raises(SyncError, match=r"FirstQuery: no .* comment .* under athena/"):
        sync(template, repository)


def test_a_named_file_that_is_missing_is_refused(repository: Path) -> None:
    (repository / "athena" / "demo" / "second.sql").unlink()
    with pytest.raises(SyncError, match=r"SecondQuery: athena/demo/second.sql does not exist"):
        sync(TEMPLATE, repository)


def test_a_folded_query_string_is_refused(repository: Path) -> None:
    template = TEMPLATE.replace("QueryString: |", "QueryString: >")
    with pytest.raises(SyncError, match="must be a literal block"):
        sync(template, repository)


# ------------------------------------------------------------------ the command


def _repository_copy(root: Path) -> Path:
    """The script in a repository of its own, with the small template one file ahead of it."""
    (root / "scripts").mkdir()
    script = root / "scripts" / "sync_named_queries.py"
    shutil.copyfile(ROOT / "scripts" / "sync_named_queries.py", script)
    (root / "template.yaml").write_bytes(TEMPLATE.encode())
    return script


def _run(script: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *arguments], capture_output=True, text=True, check=False
    )


def test_check_fails_on_a_stale_template_and_says_what_to_run(repository: Path) -> None:
    # Given a repository whose query files changed after the template was written
    script = _repository_copy(repository)
    # When checked / Then it fails, names the queries and says what to run
    result = _run(script, "--check")
    assert result.returncode == 1
    assert "FirstQuery, SecondQuery" in result.stderr
    assert "run make named-queries" in result.stderr
    assert (repository / "template.yaml").read_bytes() == TEMPLATE.encode()


def test_check_passes_once_the_template_is_synced(repository: Path) -> None:
    # Given the same repository after `make named-queries`
    script = _repository_copy(repository)
    assert _run(script).returncode == 0
    assert (repository / "template.yaml").read_bytes() == sync(TEMPLATE, repository).encode()
    # When checked / Then it passes
    assert _run(script, "--check").returncode == 0
