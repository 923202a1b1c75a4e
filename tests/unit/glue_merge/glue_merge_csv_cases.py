"""CSV files at the edges where Spark's and DuckDB's readers and casts used to disagree.

Wanted, on both engines: an unquoted empty field is NULL and a quoted "" the empty string; rows
end at LF, so a quoted CRLF stays in its value; every value is exactly of its column's type under
one grammar (merge_sql), else the table fails naming the file and the column; an unterminated
quote, bytes that are not UTF-8 and other malformed rows fail the table naming the file.
Scenarios as in glue_merge_scenarios: the unit tier runs them on DuckDB, the engine tier on both.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Final

from glue_merge_fakes import FakeTracker, table_config
from glue_merge_scenarios import Observation, Rig, Scenario

SOURCE: Final = "edge.values"
COLUMNS: Final = (
    ("id", "string"),
    ("n", "int"),
    ("big", "bigint"),
    ("amount", "decimal(10,2)"),
    ("ratio", "double"),
    ("flag", "boolean"),
    ("day", "date"),
    ("seen_at", "timestamp"),
    ("note", "string"),
)
NAMES: Final = tuple(name for name, _ in COLUMNS)
# Fields as written in the file (raw CSV text: quotes are part of the field).
VALID: Final = {
    "id": '"k"',
    "n": "1",
    "big": "1",
    "amount": "1.00",
    "ratio": "1.5",
    "flag": "true",
    "day": "2026-11-23",
    "seen_at": "2026-11-23 10:00:00",
    "note": "x",
}
SEQUENCE: Final = "2026-11-23 10:00:00"
CSV_SCENARIOS: dict[str, Scenario] = {}


def config() -> dict[str, Any]:
    return table_config(SOURCE, columns=COLUMNS, primary_key=("id",))


def line(op: str = "I", sequence: str = SEQUENCE, **fields: str) -> bytes:
    """One CDC row, its fields raw: every column valid unless given."""
    values = {**VALID, **fields}
    return ",".join((op, sequence, *(values[name] for name in NAMES))).encode() + b"\n"


def run(rig: Rig, files: dict[str, bytes]) -> tuple[Any, str, FakeTracker]:
    """One batch over the files (named in landing order): the table's outcome, its recorded
    error, and the tracker."""
    tracker = FakeTracker()
    tracker.add(*(rig.bucket.write_bytes(SOURCE, name, data) for name, data in files.items()))
    outcome, history, _ = rig.run_batch(tracker, config())
    return outcome.tables[0], history.records[0].error or "", tracker


def csv_scenario(scenario: Scenario) -> Scenario:
    CSV_SCENARIOS[scenario.__name__] = scenario
    return scenario


@csv_scenario
def a_quoted_empty_field_is_an_empty_string_and_an_unquoted_one_is_null(rig: Rig) -> Observation:
    # Given an empty key and note written "" and another row whose note field is empty
    data = line(id='""', note='""') + line(id='"b"', note="")
    # When merged
    table, error, tracker = run(rig, {"f.csv": data})
    # Then "" is the empty string (even as a key) and the empty field is NULL
    assert table.status == "succeeded", error
    assert [(row[0], row[-1]) for row in rig.rows("edge", "values")] == [("", ""), ("b", None)]
    return rig.observe(tracker, [("edge", "values")])


@csv_scenario
def a_quoted_crlf_in_a_file_of_lf_rows_stays_in_its_value(rig: Rig) -> Observation:
    # Given a value holding CR LF, in a file whose rows end in LF
    data = line(id='"k1"', note='"a\r\nb"') + line(id='"k2"', note="c")
    # When merged / Then both rows are read, the CR LF kept inside the value
    table, error, tracker = run(rig, {"f.csv": data})
    assert table.status == "succeeded", error
    assert [(row[0], row[-1]) for row in rig.rows("edge", "values")] == [
        ("k1", "a\r\nb"),
        ("k2", "c"),
    ]
    return rig.observe(tracker, [("edge", "values")])


# (field text, value read): each row of the scenario below sets one column.
ACCEPTED: Final[dict[str, Sequence[tuple[str, object]]]] = {
    "n": [("-0007", -7), ("2147483647", 2**31 - 1), ("-2147483648", -(2**31))],
    "big": [("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -(2**63))],
    "amount": [
        ("12345678.99", Decimal("12345678.99")),
        ("-0.5", Decimal("-0.50")),
        ("3.000", Decimal("3.00")),
        ("0007", Decimal("7.00")),
    ],
    "ratio": [
        ("1e3", 1000.0),
        ("-2.5E-3", -0.0025),
        ("1.7976931348623157e308", 1.7976931348623157e308),
    ],
    "flag": [
        ("TRUE", True),
        ("False", False),
        ("t", True),
        ("F", False),
        ("1", True),
        ("0", False),
    ],
    "day": [
        ("0001-01-01", date(1, 1, 1)),
        ("9999-12-31", date(9999, 12, 31)),
        ("2024-02-29", date(2024, 2, 29)),
    ],
    "seen_at": [
        ("2026-11-23T10:00:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23 23:59:59.999999", datetime(2026, 11, 23, 23, 59, 59, 999999, tzinfo=UTC)),
        ("2026-11-23 10:00:00.5", datetime(2026, 11, 23, 10, 0, 0, 500000, tzinfo=UTC)),
        ("0001-01-01 00:00:00", datetime(1, 1, 1, tzinfo=UTC)),
    ],
}


@csv_scenario
def every_accepted_spelling_of_a_value_reads_as_the_same_value(rig: Rig) -> Observation:
    # Given rows that each spell one column's value in an accepted way
    cases = [(name, text, value) for name, spelled in ACCEPTED.items() for text, value in spelled]
    data = b"".join(
        line(id=f'"{i:02d}"', **{name: text}) for i, (name, text, _) in enumerate(cases)
    )
    # When merged
    table, error, tracker = run(rig, {"f.csv": data})
    # Then each value is the one its spelling means
    assert table.status == "succeeded", error
    rows = rig.rows("edge", "values")
    read = [
        (name, text, row[NAMES.index(name)])
        for (name, text, _), row in zip(cases, rows, strict=True)
    ]
    assert read == cases
    return rig.observe(tracker, [("edge", "values")])


def _refused(rig: Rig, refused: Sequence[tuple[str, str]]) -> Observation:
    # Given one file per value that is not exactly of its column's type
    files = {f"{i:02d}.csv": line(**{name: text}) for i, (name, text) in enumerate(refused)}
    # When merged
    table, error, tracker = run(rig, files)
    # Then the table fails and nothing is merged; the error names each file and its column
    assert table.status == "failed"
    assert rig.rows("edge", "values") == []
    for i, (name, _) in enumerate(refused):
        assert f"s3://staging/edge/values/{i:02d}.csv: {name}: 1" in error
    assert error.endswith("[file: s3://staging/edge/values/00.csv] [column: n]"), error
    return rig.observe(tracker, [("edge", "values")])


@csv_scenario
def numbers_that_do_not_fit_their_columns_fail_the_table_naming_file_and_column(
    rig: Rig,
) -> Observation:
    return _refused(
        rig,
        [
            ("n", "1.5"),  # Spark truncated, DuckDB rounded
            ("n", "1e3"),
            ("n", "2147483648"),
            ("n", " 1"),
            ("big", "9223372036854775808"),
            ("amount", "1.005"),
            ("amount", "123456789"),
            ("amount", "1."),
            ("ratio", "NaN"),
            ("ratio", "1e400"),
        ],
    )


@csv_scenario
def text_that_is_no_boolean_date_or_timestamp_fails_the_table_naming_file_and_column(
    rig: Rig,
) -> Observation:
    return _refused(
        rig,
        [
            ("n", "x"),
            ("flag", " true "),
            ("flag", "yes"),
            ("day", "2026-02-30"),
            ("day", "2026-1-5"),
            ("day", "0000-01-01"),
            ("seen_at", "2026-11-23 24:00:00"),
            ("seen_at", "2026-11-23 10:00:00.1234567"),
            ("seen_at", "2026-11-23 10:00:00+01:00"),
        ],
    )


MALFORMED_FILES: Final = {
    "an unterminated quote in the last field": line(note='"x'),
    "an unterminated quote swallowing the next rows": line(note='"x') + line(id='"k2"'),
    "bytes that are not UTF-8 (Latin-1)": line(note="caf\xe9").replace(b"caf\xc3\xa9", b"caf\xe9"),
    "a stray quote in an unquoted field": line(note='a"b'),
    "text after a closing quote": line(note='"a"b'),
    "rows ending in CR LF": line().replace(b"\n", b"\r\n"),
    "an empty last field before CR LF": line(note="").replace(b"\n", b"\r\n"),
    "a quoted last field before CR LF": line(note='"x"').replace(b"\n", b"\r\n"),
    "a lone CR in an unquoted field": line(note="a\rb"),
    "a lone CR in a quoted value": line(note='"a\rb"'),
    "a trailing delimiter (one field too many)": line().replace(b"\n", b",\n"),
    "a row with too few fields": line().replace(b",x\n", b"\n"),
}


def _malformed_file_fails_its_table(case: str, rig: Rig) -> Observation:
    # Given a malformed file
    tracker = FakeTracker()
    tracker.add(rig.bucket.write_bytes(SOURCE, "bad.csv", MALFORMED_FILES[case]))
    # When merged
    outcome, history, _ = rig.run_batch(tracker, config())
    # Then the table fails naming the file, merges nothing, and the file stays pending
    assert outcome.tables[0].status == "failed"
    assert "[file: s3://staging/edge/values/bad.csv]" in (history.records[0].error or "")
    assert rig.rows("edge", "values") == []
    assert [file.file_name for file in tracker.pending_files(SOURCE)] == ["bad.csv"]
    return rig.observe(tracker, [("edge", "values")])


for _case in MALFORMED_FILES:
    CSV_SCENARIOS[f"a_malformed_file_fails_its_table[{_case}]"] = partial(
        _malformed_file_fails_its_table, _case
    )
