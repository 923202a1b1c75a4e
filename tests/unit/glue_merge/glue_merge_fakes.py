"""In-memory collaborators of the merge job, and DMS-like files written to a local "bucket"."""

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cdc_merge.engine import StagingFile
from cdc_merge.file_tracker import PendingFile, landing_order
from cdc_merge.history import HistoryRecord
from cdc_merge.job import FilePlan, apply_plan
from cdc_merge.table_spec import FILE_ORDER_COLUMN, TableSpec, quote_identifier
from datalake_contracts.file_tracker_item import LoadType
from dev.glue_merge.duckdb_engine import DuckDbEngine

BUCKET = "staging"
RUN_ID = "hourly-run-1"


def table_config(
    source_table: str = "sales.orders",
    *,
    mode: str = "current",
    sequence_column_type: str = "timestamp",
    columns: Sequence[tuple[str, str]] = (
        ("order_id", "bigint"),
        ("customer", "string"),
        ("amount", "decimal(10,2)"),
    ),
    primary_key: Sequence[str] = ("order_id",),
    **extra: Any,
) -> dict[str, Any]:
    """A TableConfig dict as the batch planner sends it."""
    schema, _, table = source_table.partition(".")
    return {
        "cadence": "hourly",
        "source_table": source_table,
        "target_database": schema.lower(),
        "target_table": table.lower(),
        "columns": [{"name": name, "type": kind} for name, kind in columns],
        "primary_key": list(primary_key),
        "sequence_column": "change_ts",
        "sequence_column_type": sequence_column_type,
        "file_format": "csv",
        "mode": mode,
        "partition_by": [],
        "active": True,
        **extra,
    }


def batch_of(*tables: dict[str, Any], run_id: str = RUN_ID) -> dict[str, Any]:
    return {
        "batch_id": f"hourly-{run_id}-000",
        "cadence": "hourly",
        "run_id": run_id,
        "tables": list(tables),
    }


def csv_field(value: object) -> str:
    """A value as DMS writes it in a CSV field: None is an empty field, "" a quoted empty one;
    a value holding a comma, quote, CR or LF is quoted, its quotes doubled."""
    if value is None:
        return ""
    text = str(value)
    if text == "" or any(special in text for special in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as a DMS CSV file: UTF-8, each row ending in LF."""
    return "".join(",".join(csv_field(v) for v in row) + "\n" for row in rows).encode()


class LocalBucket:
    """Files in a temporary directory standing for the staging bucket, tracked like DMS's."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._clock = itertools.count()

    def resolve(self, uri: str) -> str:
        prefix = f"s3://{BUCKET}/"
        assert uri.startswith(prefix), uri
        return str(self.root / uri.removeprefix(prefix))

    def write_csv(
        self, source_table: str, file_name: str, rows: Iterable[Sequence[object]]
    ) -> PendingFile:
        return self.write_bytes(source_table, file_name, csv_bytes(rows))

    def write_bytes(self, source_table: str, file_name: str, data: bytes) -> PendingFile:
        """A file of exactly these bytes (for malformed files)."""
        key = f"{source_table.replace('.', '/')}/{file_name}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.pending(source_table, key)

    def pending(self, source_table: str, key: str) -> PendingFile:
        file_name = key.rsplit("/", 1)[-1]
        tick = next(self._clock)
        return PendingFile(
            source_table=source_table,
            file_id=f"{tick:06d}-{file_name}",
            bucket=BUCKET,
            key=key,
            load_type="full" if file_name.upper().startswith("LOAD") else "cdc",
            event_time=f"2026-11-23T10:{tick // 60:02d}:{tick % 60:02d}Z",
            file_name=file_name,
        )

    def engine(self) -> DuckDbEngine:
        return DuckDbEngine(":memory:", resolve_path=self.resolve)


@dataclass
class FakeTracker:
    """Pending files per table; marking removes them."""

    files: dict[str, list[PendingFile]] = field(default_factory=dict)
    marked: list[tuple[str, str]] = field(default_factory=list)

    def add(self, *files: PendingFile) -> None:
        for file in files:
            self.files.setdefault(file.source_table, []).append(file)

    def pending_files(self, source_table: str) -> list[PendingFile]:
        return landing_order(self.files.get(source_table, []))  # as DynamoFileTracker sorts

    def mark_processed(self, files: Sequence[PendingFile], run_id: str) -> None:
        for file in files:
            self.files[file.source_table].remove(file)
            self.marked.append((file.file_id, run_id))


@dataclass
class FakeLeases:
    """Leases held per table; another run's live lease refuses."""

    held: dict[str, str] = field(default_factory=dict)
    released: list[str] = field(default_factory=list)

    def acquire(self, source_table: str, run_id: str) -> bool:
        holder = self.held.setdefault(source_table, run_id)
        return holder == run_id

    def release(self, source_table: str, run_id: str) -> bool:
        if self.held.get(source_table) != run_id:
            return False
        del self.held[source_table]
        self.released.append(source_table)
        return True


@dataclass
class FakeHistory:
    records: list[HistoryRecord] = field(default_factory=list)

    def record(self, record: HistoryRecord) -> None:
        self.records.append(record)

    def by_table(self) -> dict[str, HistoryRecord]:
        return {record.source_table: record for record in self.records}


# The moment the adapter tests stand at.
FIXED_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class FixedClock:
    """A clock standing at ``now`` until a test moves it (``clock.now += ...``)."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class TickingClock:
    """Each reading is one second after the previous one."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)) -> None:
        self._now = start

    def __call__(self) -> datetime:
        now = self._now
        self._now += timedelta(seconds=1)
        return now


class StatementCollector:
    """An engine that runs nothing: it keeps each statement the job would run and answers at
    once (no invalid values, zero counts), so what is left is the job's own work on a table."""

    _VALUE_CHECK = f"SELECT {quote_identifier(FILE_ORDER_COLUMN)}, "

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        self.statements.append(sql)
        return [] if sql.startswith(self._VALUE_CHECK) else [(0, 0, 0)]

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        pass

    def materialize_view(self, name: str, select_sql: str) -> None:
        self.statements.append(select_sql)

    def drop_view(self, name: str) -> None:
        pass


def _pending(table: str, load_type: LoadType, name: str) -> PendingFile:
    return PendingFile(
        source_table=table,
        file_id=name,
        bucket=BUCKET,
        key=f"{table}/{name}",
        load_type=load_type,
        event_time="2026-11-23T10:00:00Z",
        file_name=name,
    )


def job_statements(spec: TableSpec) -> list[str]:
    """Every statement apply_plan runs for a full load followed by changes (the job's own path,
    so every statement kind of the table's mode is there)."""
    plan = FilePlan(
        load=(_pending(spec.source_table, "full", "LOAD00000001.csv"),),
        changes=(_pending(spec.source_table, "cdc", "20261123-1000.csv"),),
    )
    collector = StatementCollector()
    apply_plan(collector, spec, plan)
    return collector.statements
