"""Per-table status of the batch pipeline: for each configured table, its cadence, whether it is
active, its last merge run (time, Glue job run id, outcome), its pending files (count, oldest)
and its last error.

    python -m tools.table_status --stack datalake-events-dev
    python -m tools.table_status --stack datalake-events-dev --cadence hourly --format json

The stack defaults to $AWS_SAM_STACK_NAME; its outputs name the config, history and file tracker
tables. Read live from DynamoDB (the TableConfig table, the processing history the Glue job
writes, and the file tracker's sparse pending-files index); the same runs are in Athena as the
named query "table status - ..." (athena/table_status/per_table_status.sql).
Exit codes: 0 listed, 2 usage, 3 AWS error.
"""

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from datalake_contracts import file_tracker_item as tracker_layout
from datalake_contracts import processing_history as history_layout
from datalake_contracts.dynamodb_keys import MAX_PARTITION_KEY_BYTES, bounded_key
from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.config_store import PipelineConfigStore
from tools.load_config import (
    BATCH_TABLE_OUTPUT,
    STACK_ENV,
    TABLE_TABLE_OUTPUT,
    StackLookupError,
    stack_values,
    text_table,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HISTORY_TABLE_OUTPUT: Final = "ProcessingHistoryTableName"
TRACKER_TABLE_OUTPUT: Final = "FileTrackerTableName"
STACK_OUTPUTS: Final = (
    BATCH_TABLE_OUTPUT,
    TABLE_TABLE_OUTPUT,
    HISTORY_TABLE_OUTPUT,
    TRACKER_TABLE_OUTPUT,
)
# Newest runs read per table while looking for its last failure: the last error is "none in the
# last N runs" beyond that, so one long-healthy table costs a bounded read.
MAX_RUNS_READ: Final = 100
_RUNS_PAGE: Final = 25
# Text output cuts the error to one line of this many characters (JSON keeps it whole).
ERROR_WIDTH: Final = 60
EXIT_USAGE: Final = 2
EXIT_AWS: Final = 3

# --- what the view shows (pure: built from typed records, no AWS) ------------------------------


@dataclass(frozen=True, slots=True)
class ConfiguredTable:
    cadence: str
    source_table: str
    active: bool


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One processing history item (datalake_contracts.processing_history), the fields shown."""

    status: str
    finished_at: str
    run_id: str
    job_run_id: str | None
    files: int
    error: str | None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "RunRecord":
        """From a DynamoDB item (attribute-value form)."""

        def text(name: str) -> str | None:
            value = item.get(name, {}).get("S")
            return value if isinstance(value, str) else None

        return cls(
            status=text(history_layout.STATUS) or "unknown",
            finished_at=text(history_layout.FINISHED_AT) or "",
            run_id=text(history_layout.RUN_ID) or "",
            job_run_id=text(history_layout.JOB_RUN_ID),
            files=int(item.get(history_layout.FILES, {}).get("N", 0)),
            error=text(history_layout.ERROR),
        )


@dataclass(frozen=True, slots=True)
class PendingFiles:
    count: int = 0
    oldest: str | None = None  # event time of the oldest pending file

    @classmethod
    def from_event_times(cls, event_times: Iterable[str]) -> "PendingFiles":
        times = list(event_times)
        return cls(len(times), min(times) if times else None)


@dataclass(frozen=True, slots=True)
class TableStatus:
    cadence: str
    source_table: str
    active: bool
    last_run_at: str | None
    last_job_run_id: str | None
    last_run_id: str | None
    outcome: str  # the last run's status, or "never run"
    last_files: int
    pending_files: int
    oldest_pending: str | None
    last_error_at: str | None
    last_error: str | None


NEVER_RUN: Final = "never run"


def table_status(
    table: ConfiguredTable, runs_newest_first: Sequence[RunRecord], pending: PendingFiles
) -> TableStatus:
    """One table's row: the newest run gives the last run, the newest failed one the error."""
    last = runs_newest_first[0] if runs_newest_first else None
    failed = next(
        (run for run in runs_newest_first if run.status == history_layout.FAILED_STATUS), None
    )
    return TableStatus(
        cadence=table.cadence,
        source_table=table.source_table,
        active=table.active,
        last_run_at=last.finished_at if last else None,
        last_job_run_id=last.job_run_id if last else None,
        last_run_id=last.run_id if last else None,
        outcome=last.status if last else NEVER_RUN,
        last_files=last.files if last else 0,
        pending_files=pending.count,
        oldest_pending=pending.oldest,
        last_error_at=failed.finished_at if failed else None,
        last_error=failed.error if failed else None,
    )


def sort_rows(rows: Iterable[TableStatus]) -> list[TableStatus]:
    """Failing tables first, then by cadence and name: what needs a look is on top."""
    return sorted(
        rows,
        key=lambda row: (
            row.outcome != history_layout.FAILED_STATUS,
            row.cadence,
            row.source_table,
        ),
    )


def _short_time(value: str | None) -> str:
    """ISO 8601 UTC times to the second (all stored times are UTC): 2026-11-23 10:15:00."""
    return value[:19].replace("T", " ") if value else "-"


def _one_line(text: str | None, width: int = ERROR_WIDTH) -> str:
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."


TEXT_HEADERS: Final = (
    *("cadence", "table", "active", "last run (UTC)", "glue run", "outcome"),
    *("pending", "oldest pending (UTC)", "last error"),
)


def render_text(rows: Sequence[TableStatus]) -> str:
    if not rows:
        return "No configured tables."
    return text_table(
        TEXT_HEADERS,
        [
            [
                row.cadence,
                row.source_table,
                "yes" if row.active else "no",
                _short_time(row.last_run_at),
                row.last_job_run_id or "-",
                row.outcome,
                row.pending_files,
                _short_time(row.oldest_pending),
                _one_line(row.last_error),
            ]
            for row in rows
        ],
    )


def render_json(rows: Sequence[TableStatus]) -> str:
    return json.dumps({"tables": [asdict(row) for row in rows]}, indent=2)


# --- readers (AWS): the existing item layouts, nothing re-declared ------------------------------


class StatusSource(Protocol):
    def configured_tables(self, cadence: str | None) -> list[ConfiguredTable]: ...

    def recent_runs(self, source_table: str) -> list[RunRecord]: ...

    def pending_files(self, source_table: str) -> PendingFiles: ...


@dataclass(frozen=True, slots=True)
class StackTables:
    batch_config: str
    table_config: str
    history: str
    tracker: str

    @classmethod
    def from_outputs(cls, outputs: dict[str, str]) -> "StackTables":
        return cls(*(outputs[name] for name in STACK_OUTPUTS))


class DynamoStatusSource:
    """The three tables, read with one DynamoDB client (built by the caller)."""

    def __init__(self, tables: StackTables, client: "DynamoDBClient") -> None:
        self.tables = tables
        self.client = client
        self.configs = PipelineConfigStore(tables.batch_config, tables.table_config, client=client)

    def configured_tables(self, cadence: str | None) -> list[ConfiguredTable]:
        """The stored table configs (of one cadence, or of every stored cadence)."""
        cadences = (
            [cadence] if cadence else [batch.cadence for batch in self.configs.load_batch_configs()]
        )
        return [
            ConfiguredTable(table.cadence, table.source_table, table.active)
            for name in cadences
            for table in self.configs.load_table_configs(name)
        ]

    def recent_runs(self, source_table: str) -> list[RunRecord]:
        """The table's newest runs, newest first, until its last failure (or MAX_RUNS_READ)."""
        runs: list[RunRecord] = []
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.tables.history,
            KeyConditionExpression="#table = :table",
            ExpressionAttributeNames={"#table": history_layout.SOURCE_TABLE},
            ExpressionAttributeValues={
                ":table": {"S": bounded_key(source_table, MAX_PARTITION_KEY_BYTES)}
            },
            ScanIndexForward=False,  # run_key starts with the start time: newest first
            PaginationConfig={"PageSize": _RUNS_PAGE, "MaxItems": MAX_RUNS_READ},
        )
        for page in pages:
            runs += [RunRecord.from_item(item) for item in page.get("Items", [])]
            if any(run.status == history_layout.FAILED_STATUS for run in runs):
                break
        return runs

    def pending_files(self, source_table: str) -> PendingFiles:
        """From the sparse pending-files index: only pending files are read, never history."""
        times: list[str] = []
        for page in self.client.get_paginator("query").paginate(
            TableName=self.tables.tracker,
            IndexName=tracker_layout.PENDING_INDEX,
            KeyConditionExpression="#pending = :landed AND begins_with(#order, :prefix)",
            # Names of other tables may begin the same way: match the table itself.
            FilterExpression="#table = :table",
            ProjectionExpression="#time",
            ExpressionAttributeNames={
                "#pending": tracker_layout.PENDING_STATUS,
                "#order": tracker_layout.PENDING_ORDER,
                "#table": tracker_layout.SOURCE_TABLE,
                "#time": tracker_layout.EVENT_TIME,
            },
            ExpressionAttributeValues={
                ":landed": {"S": tracker_layout.LANDED_STATUS},
                ":prefix": {"S": tracker_layout.pending_order_prefix(source_table)},
                ":table": {"S": source_table},
            },
        ):
            times += [
                item.get(tracker_layout.EVENT_TIME, {}).get("S", "")
                for item in page.get("Items", [])
            ]
        return PendingFiles.from_event_times(times)


def collect(source: StatusSource, cadence: str | None = None) -> list[TableStatus]:
    return sort_rows(
        table_status(
            table, source.recent_runs(table.source_table), source.pending_files(table.source_table)
        )
        for table in source.configured_tables(cadence)
    )


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.table_status",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack", default=os.environ.get(STACK_ENV), help=f"stack name (default ${STACK_ENV})"
    )
    parser.add_argument("--cadence", help="only this cadence's tables")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--region", help="AWS region (default: the AWS CLI's)")
    return parser.parse_args(argv)


class Session(Protocol):
    def client(self, service_name: Any) -> Any: ...


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    session: Session | None = None,
) -> int:
    """``session`` (anything with ``client(name)``) lets tests and the local runtime pass theirs."""
    args = parse_args(argv)
    if not args.stack:
        print(f"error: give --stack (or set {STACK_ENV})", file=err)
        return EXIT_USAGE
    aws = session or boto3.session.Session(region_name=args.region)
    try:
        outputs, _ = stack_values(args.stack, aws.client("cloudformation"), STACK_OUTPUTS)
        source = DynamoStatusSource(StackTables.from_outputs(outputs), aws.client("dynamodb"))
        rows = collect(source, args.cadence)
    except PipelineConfigError as error:  # a stored config the current code cannot read
        print(f"error: {error}", file=err)
        return EXIT_AWS
    except (StackLookupError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=err)
        return EXIT_AWS
    print(render_json(rows) if args.format == "json" else render_text(rows), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
