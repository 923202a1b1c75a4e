"""The CSV text: what Athena's OpenCSVSerde, Python's csv and DuckDB's read_csv read back."""

import csv
import io
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_metrics_fakes import metrics_connection

from pipeline_metrics.csv_rows import (
    COLUMNS,
    READ_DIALECT,
    MetricRow,
    athena_safe,
    decode_csv,
    encode_csv,
    object_key,
    stored_row,
)

# What breaks naive CSV (the post joined values with commas): separators, quotes, the escape
# character, every kind of line break, NUL, and Unicode beyond ASCII (including the Unicode
# line separators, which are not row breaks for Athena, DuckDB or Python's csv).
HOSTILE_PIECES = [",", '"', '""', "\\", '\\"', "\n", "\r\n", "\r", "\x00", "\t", " ", "'"]
HOSTILE_PIECES += ["é", "ß", "✅", "漢字", "\u2028", "\u2029", "\x85", "\u200b", "\U0001f680"]
hostile_text = st.lists(
    st.one_of(
        st.sampled_from(HOSTILE_PIECES),
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=6),
    ),
    max_size=8,
).map("".join)

ROW = MetricRow(
    event_id="7f3c6a1e-2b4d-4e8f-9a10-5c6d7e8f9a01",
    event_time="2026-11-22T11:04:47Z",
    account="123456789012",
    region="us-east-1",
    pipeline="orders-service",
    execution_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    level="action",
    stage="Build",
    action="Build",
    category="Build",
    provider="CodeBuild",
    state="FAILED",
    failure_summary="Build terminated with state: FAILED",
    error_code="JobFailed",
    external_url="https://console.aws.amazon.com/codebuild/home?region=us-east-1#/builds/b:1",
    pipeline_version="3",
)


@st.composite
def hostile_rows(draw: st.DrawFn) -> MetricRow:
    """A row whose free-text columns (names, summary, link...) are hostile strings."""
    return replace(
        ROW,
        event_id=draw(st.uuids()).hex,
        pipeline=draw(hostile_text),
        stage=draw(hostile_text),
        action=draw(hostile_text),
        failure_summary=draw(hostile_text),
        error_code=draw(hostile_text),
        external_url=draw(hostile_text),
    )


def test_header_is_the_column_names_in_table_order() -> None:
    # Given one row / When encoded / Then the first line names the columns, quoted
    first_line = encode_csv([ROW]).decode().split("\n", 1)[0]
    assert first_line == ",".join(f'"{name}"' for name in COLUMNS)


def test_plain_row_is_one_quoted_line_ending_in_a_newline() -> None:
    # Given a row without special characters / When encoded
    text = encode_csv([ROW]).decode()
    # Then it is the header and one line, every field quoted, "\n" terminated, no CR
    lines = text.split("\n")
    assert lines[2:] == [""]
    assert lines[1].startswith('"7f3c6a1e-2b4d-4e8f-9a10-5c6d7e8f9a01","2026-11-22T11:04:47Z",')
    assert "\r" not in text


def test_quotes_and_backslashes_are_escaped_with_a_backslash() -> None:
    # Given a summary with quotes and a Windows path
    row = replace(ROW, failure_summary='see "C:\\ops\\fix.md"')
    # When encoded
    text = encode_csv([row]).decode()
    # Then both are backslash-escaped, as OpenCSVSerde's default escape character expects
    assert '"see \\"C:\\\\ops\\\\fix.md\\""' in text


def test_line_breaks_in_a_value_are_stored_as_backslash_n_on_one_line() -> None:
    # Given a multi-line summary with LF, CRLF and CR line breaks
    row = replace(ROW, failure_summary="one\ntwo\r\nthree\rfour")
    # When encoded and read back
    body = encode_csv([row])
    # Then the file has one line per row and the summary reads with literal \n separators
    assert body.decode().count("\n") == 2
    assert decode_csv(body)[0]["failure_summary"] == "one\\ntwo\\nthree\\nfour"


def test_nul_characters_are_dropped() -> None:
    # Given a value with NUL characters / Then the stored value has none
    assert athena_safe("a\x00b\x00") == "ab"


def test_empty_columns_are_empty_quoted_strings() -> None:
    # Given a pipeline row, whose stage/action columns are empty / When encoded and read back
    row = replace(ROW, level="pipeline", stage="", action="", category="", provider="")
    back = decode_csv(encode_csv([row]))[0]
    # Then they read as empty strings
    assert [back[name] for name in ("stage", "action", "category", "provider")] == [""] * 4


@given(text=hostile_text)
@settings(max_examples=200, deadline=None)
def test_values_without_line_breaks_or_nul_are_stored_unchanged(text: str) -> None:
    # Given any text without CR, LF or NUL / Then storing it changes nothing
    clean = text.replace("\r", "").replace("\n", "").replace("\x00", "")
    assert athena_safe(clean) == clean


@given(rows=st.lists(hostile_rows(), min_size=1, max_size=5))
@settings(max_examples=100, deadline=None)
def test_hostile_rows_round_trip_through_python_csv(rows: list[MetricRow]) -> None:
    # Given rows of hostile strings / When encoded and read back with Python's csv
    body = encode_csv(rows)
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), dialect=READ_DIALECT)
    read = [tuple(values) for values in reader]
    # Then the header and every stored value come back, in order
    assert read == [COLUMNS, *(stored_row(row) for row in rows)]


@given(rows=st.lists(hostile_rows(), min_size=1, max_size=5))
@settings(max_examples=100, deadline=None)
def test_every_row_is_exactly_one_physical_line(rows: list[MetricRow]) -> None:
    # Given rows of hostile strings / When encoded
    lines = encode_csv(rows).split(b"\n")
    # Then splitting at line breaks, as Athena's text reader does, gives header + one per row
    assert lines[-1] == b""
    assert len(lines) - 1 == 1 + len(rows)
    assert all(b"\r" not in line for line in lines)


@given(rows=st.lists(hostile_rows(), min_size=1, max_size=5))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_hostile_rows_round_trip_through_duckdb_read_csv(
    rows: list[MetricRow], tmp_path: Path
) -> None:
    # Given rows of hostile strings written where the table would find them
    folder = tmp_path / "pipeline-metrics" / "dt=2026-11-22"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "batch.csv").write_bytes(encode_csv(rows))
    # When DuckDB reads them as the Glue table declares them
    with metrics_connection(tmp_path) as connection:
        columns = ", ".join(f'"{name}"' for name in COLUMNS)
        read = connection.execute(f"SELECT {columns} FROM pipeline_metrics").fetchall()  # noqa: S608
    # Then every stored value comes back, in order
    assert read == [stored_row(row) for row in rows]


def test_object_key_depends_on_the_set_of_event_ids_only() -> None:
    # Given the same ids in another order, or with one repeated
    ids = ["b", "a", "c"]
    # When keyed / Then the key is the same; another set gives another key
    key = object_key("pipeline-metrics/", "2026-11-22", ids)
    assert object_key("pipeline-metrics/", "2026-11-22", ["c", "a", "b", "a"]) == key
    assert object_key("pipeline-metrics/", "2026-11-22", ["a", "b"]) != key


def test_object_key_is_prefix_dt_partition_and_sha256() -> None:
    # Given a prefix, a day and ids / When keyed
    key = object_key("pipeline-metrics/", "2026-11-22", ["a"])
    # Then the key is under the day's partition, named by a sha256 hex digest
    folder, name = key.rsplit("/", 1)
    assert folder == "pipeline-metrics/dt=2026-11-22"
    assert name.endswith(".csv")
    assert len(name.removesuffix(".csv")) == 64


def test_ids_cannot_be_joined_into_another_set() -> None:
    # Given two id sets whose naive concatenations are equal / Then their keys differ
    assert object_key("", "2026-11-22", ["a,b"]) != object_key("", "2026-11-22", ["a", "b"])


def test_object_key_digest_is_stable_across_releases() -> None:
    # Given two event ids / When keyed
    key = object_key("pipeline-metrics/", "2026-11-22", ["b", "a"])
    # Then the name is the sha256 of their compact JSON list, '["a","b"]': a fixed value, so a
    # batch redelivered after a deployment still overwrites the object an older release wrote
    assert key == (
        "pipeline-metrics/dt=2026-11-22/"
        "0473ef2dc0d324ab659d3580c1134e9d812035905c4781fdd6d529b0c6860e13.csv"
    )
