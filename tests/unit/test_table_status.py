"""tools/table_status: rows built from typed records (no AWS), the text and JSON views, and the
history items read back as the Glue job writes them."""

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cdc_merge.history import DynamoHistory, HistoryRecord
from tools.table_status import (
    ERROR_WIDTH,
    NEVER_RUN,
    ConfiguredTable,
    PendingFiles,
    RunRecord,
    TableStatus,
    render_json,
    render_text,
    sort_rows,
    table_status,
)

ORDERS = ConfiguredTable("hourly", "sales.orders", active=True)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def run(status: str, minutes_ago: int, error: str | None = None) -> RunRecord:
    finished = (NOW - timedelta(minutes=minutes_ago)).isoformat()
    return RunRecord(status, finished, f"run-{minutes_ago}", f"jr_{minutes_ago}", 3, error)


def test_a_table_that_never_ran_says_so_with_its_pending_files() -> None:
    # Given a configured table with no history and two pending files
    pending = PendingFiles.from_event_times(["2026-11-23T10:05:00Z", "2026-11-23T09:00:00Z"])

    # When its row is built
    row = table_status(ORDERS, [], pending)

    # Then it never ran, and its oldest pending file is the earliest landed
    assert (row.outcome, row.last_run_at, row.last_job_run_id) == (NEVER_RUN, None, None)
    assert (row.pending_files, row.oldest_pending) == (2, "2026-11-23T09:00:00Z")


def test_the_last_run_gives_the_outcome_and_the_last_failure_the_error() -> None:
    # Given a table that failed an hour ago and succeeded since
    runs = [run("succeeded", 0), run("failed", 60, "bad value in customer_id")]

    # When its row is built
    row = table_status(ORDERS, runs, PendingFiles())

    # Then the outcome is the newest run's, and the error stays visible with its time
    assert (row.outcome, row.last_job_run_id, row.last_run_id) == ("succeeded", "jr_0", "run-0")
    assert row.last_error == "bad value in customer_id"
    assert row.last_error_at == runs[1].finished_at


def test_a_healthy_table_has_no_error() -> None:
    row = table_status(ORDERS, [run("succeeded", 0), run("skipped_locked", 5)], PendingFiles())
    assert (row.last_error, row.last_error_at) == (None, None)


def test_failing_tables_come_first_then_by_cadence_and_name() -> None:
    # Given rows of two cadences, one failing
    def row(cadence: str, name: str, outcome: str) -> TableStatus:
        table = ConfiguredTable(cadence, name, active=True)
        runs = [] if outcome == NEVER_RUN else [run(outcome, 0)]
        return table_status(table, runs, PendingFiles())

    rows = [
        row("hourly", "b.b", "succeeded"),
        row("daily", "z.z", NEVER_RUN),
        row("hourly", "a.a", "failed"),
    ]

    # Then the failing one is on top
    assert [r.source_table for r in sort_rows(rows)] == ["a.a", "z.z", "b.b"]


@given(st.text(min_size=1))
def test_the_text_view_keeps_each_error_to_one_short_line(error: str) -> None:
    # Given a table whose last failure has any error text (stack traces, newlines...)
    row = table_status(ORDERS, [run("failed", 0, error)], PendingFiles())

    # When shown as text
    lines = render_text([row]).splitlines()

    # Then the table is a header, a rule and one line, the error cut to its column
    assert len(lines) == 3
    error_cell = lines[2][lines[0].index("last error") :]
    assert len(error_cell.rstrip()) <= ERROR_WIDTH


def test_the_json_view_keeps_every_field_whole() -> None:
    error = "line one\n" + "x" * 500
    row = table_status(ORDERS, [run("failed", 0, error)], PendingFiles(1, "2026-11-23T09:00:00Z"))
    [shown] = json.loads(render_json([row]))["tables"]
    assert shown["last_error"] == error
    assert (shown["cadence"], shown["active"], shown["pending_files"]) == ("hourly", True, 1)


def test_no_configured_tables_is_said_plainly() -> None:
    assert render_text([]) == "No configured tables."


def test_a_history_item_reads_back_as_the_job_wrote_it() -> None:
    # Given a failed run as the Glue job stores it in the history table
    record = HistoryRecord(
        source_table="sales.orders",
        run_id="hourly-1",
        batch_id="hourly-hourly-1-000",
        status="failed",
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=3),
        files=4,
        error="boom",
    )
    item = DynamoHistory("history", client=object(), job_run_id="jr_9").item(record)  # type: ignore[arg-type]

    # When the CLI reads it
    read = RunRecord.from_item(item)

    # Then every field shown is the job's
    assert read == RunRecord(
        status="failed",
        finished_at=record.finished_at.isoformat(),
        run_id="hourly-1",
        job_run_id="jr_9",
        files=4,
        error="boom",
    )


def test_an_item_written_before_glue_run_ids_were_recorded_reads_without_one() -> None:
    item = DynamoHistory("history", client=object()).item(  # type: ignore[arg-type]
        HistoryRecord("a.b", "r", "b", "succeeded", NOW, NOW)
    )
    assert RunRecord.from_item(item).job_run_id is None
