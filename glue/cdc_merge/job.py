"""One batch of the merge job: each table on its own, under its lease, whatever the others do.

Per table: lease -> pending files -> full load (recreate the table from the newest full-load set)
-> CDC changes (MERGE the latest change per key, or append every change in history mode) ->
counts -> mark the files processed -> history record -> release the lease. A table that fails is
recorded with its error and the batch goes on; the batch outcome is then failed.
"""

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Protocol

from datalake_contracts.table_config import SOURCE_TABLE

from .engine import SqlEngine, StagingFile
from .errors import LocatedError, summarize
from .file_tracker import PendingFile
from .history import HistoryRecord, Status
from .merge_sql import (
    create_namespace_sql,
    create_table_sql,
    history_counts_sql,
    history_insert_sql,
    invalid_values_labels,
    invalid_values_sql,
    latest_changes_sql,
    merge_counts_sql,
    merge_sql,
    replace_table_sql,
    row_count_sql,
)
from .table_spec import TableSpec, validate_catalog

logger = logging.getLogger(__name__)

FULL_LOAD_VIEW: Final = "cdc_merge_full_load"
CHANGES_VIEW: Final = "cdc_merge_changes"
LATEST_VIEW: Final = "cdc_merge_latest"
DEFAULT_CATALOG: Final = "glue_catalog"
# DMS numbers the files of a full load LOAD00000001, LOAD00000002...: the first starts a set.
_FULL_LOAD_START = re.compile(r"^LOAD0*1(\.|$)", re.IGNORECASE)


class Leases(Protocol):
    def acquire(self, source_table: str, run_id: str) -> bool: ...

    def release(self, source_table: str, run_id: str) -> bool: ...


class FileTracker(Protocol):
    def pending_files(self, source_table: str) -> list[PendingFile]: ...

    def mark_processed(self, files: Sequence[PendingFile], run_id: str) -> None: ...


class History(Protocol):
    def record(self, record: HistoryRecord) -> None: ...


Clock = Callable[[], datetime]


# Set (with the reason) on a table entry of a batch whose config could not be read.
CONFIG_ERROR_KEY: Final = "config_error"


class InvalidDataError(LocatedError, ValueError):
    """Staged values that are not values of their columns' types (or unknown operations);
    ``file`` and ``column`` are the first file and column with such values."""


@dataclass(frozen=True)
class Batch:
    batch_id: str
    run_id: str
    tables: tuple[Any, ...]

    @classmethod
    def from_dict(cls, data: object) -> "Batch":
        if not isinstance(data, Mapping):
            raise ValueError("the batch must be a JSON object")
        batch_id, run_id, tables = data.get("batch_id"), data.get("run_id"), data.get("tables")
        if not isinstance(batch_id, str) or not isinstance(run_id, str) or not run_id:
            raise ValueError("the batch needs string batch_id and run_id")
        if not isinstance(tables, list):
            raise ValueError("the batch needs a list of tables")
        return cls(batch_id=batch_id, run_id=run_id, tables=tuple(tables))


@dataclass(frozen=True)
class FilePlan:
    """A table's pending files sorted into what to load, what to apply, and what is superseded."""

    load: tuple[PendingFile, ...] = ()
    changes: tuple[PendingFile, ...] = ()
    obsolete: tuple[PendingFile, ...] = ()

    @property
    def all_files(self) -> tuple[PendingFile, ...]:
        return (*self.obsolete, *self.load, *self.changes)


def is_full_load_start(file: PendingFile) -> bool:
    return file.load_type == "full" and bool(_FULL_LOAD_START.match(file.file_name))


def plan_files(files: Sequence[PendingFile]) -> FilePlan:
    """Files in landing order -> the plan.

    With a full-load set start (LOAD...1) pending, the newest one wins: its set's files recreate
    the table, the CDC files that landed after it are applied on top, and everything that landed
    before it is superseded (marked processed, not read). Without one, full-load files continue a
    set already loaded by an earlier run: their rows are applied as inserts (with no sequence
    value they rank before every CDC change of their key), so a set split over two runs never
    replaces the table with only its tail.
    """
    starts = [position for position, file in enumerate(files) if is_full_load_start(file)]
    if not starts:
        return FilePlan(changes=tuple(files))
    newest = starts[-1]
    after = files[newest:]
    return FilePlan(
        load=tuple(file for file in after if file.load_type == "full"),
        changes=tuple(file for file in after if file.load_type == "cdc"),
        obsolete=tuple(files[:newest]),
    )


@dataclass(frozen=True)
class Counts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.deleted + other.deleted,
        )

    @classmethod
    def from_row(cls, rows: list[tuple[Any, ...]]) -> "Counts":
        inserted, updated, deleted = rows[0]
        return cls(int(inserted or 0), int(updated or 0), int(deleted or 0))


@dataclass(frozen=True)
class TableOutcome:
    source_table: str
    status: Status
    files: int = 0
    counts: Counts = field(default_factory=Counts)
    full_load: bool = False
    duration_ms: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "source_table": self.source_table,
            "status": self.status,
            "files": self.files,
            "inserted": self.counts.inserted,
            "updated": self.counts.updated,
            "deleted": self.counts.deleted,
            "full_load": self.full_load,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    run_id: str
    tables: tuple[TableOutcome, ...]

    @property
    def failed(self) -> bool:
        return any(table.status == "failed" for table in self.tables)

    @property
    def failed_tables(self) -> list[str]:
        return [table.source_table for table in self.tables if table.status == "failed"]

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "run_id": self.run_id,
            "status": "failed" if self.failed else "succeeded",
            "tables": [table.as_json() for table in self.tables],
        }


def _staging(
    files: Sequence[PendingFile], first_order: int, path: Callable[[PendingFile], str]
) -> list[StagingFile]:
    return [
        StagingFile(path=path(file), kind=file.load_type, file_order=first_order + position)
        for position, file in enumerate(files)
    ]


def _check_values(
    engine: SqlEngine, spec: TableSpec, view: str, files: Sequence[StagingFile]
) -> None:
    paths = {file.file_order: file.path for file in files}
    labels = invalid_values_labels(spec)
    problems: list[tuple[str, str, int]] = []  # (file, what, how many)
    for file_order, *counts in engine.execute(invalid_values_sql(spec, view)):
        path = paths.get(int(file_order), f"file #{file_order}")
        problems += [
            (path, label, int(count)) for label, count in zip(labels, counts, strict=True) if count
        ]
    if not problems:
        return
    by_file: dict[str, list[str]] = {}
    for path, label, count in problems:
        by_file.setdefault(path, []).append(f"{label}: {count}")
    details = "; ".join(f"{path}: {', '.join(found)}" for path, found in by_file.items())
    first_path, first_label, _ = problems[0]
    raise InvalidDataError(
        "values that are not values of their columns' types (or unknown operations): " + details,
        file=first_path,
        column=first_label,
    )


def apply_plan(
    engine: SqlEngine,
    spec: TableSpec,
    plan: FilePlan,
    catalog: str = DEFAULT_CATALOG,
    path: Callable[[PendingFile], str] = lambda file: file.uri,
) -> Counts:
    """Runs the plan's SQL on the engine and returns what it did to the target table.

    A full load counts every loaded row as inserted and every row it replaced as deleted; the
    CDC part counts, in current mode, the keys the MERGE inserts, updates and deletes (computed
    before it runs), in history mode the appended change rows by operation.
    """
    counts = Counts()
    engine.execute(create_namespace_sql(spec, catalog))
    engine.execute(create_table_sql(spec, catalog))
    if plan.load:
        loaded_files = _staging(plan.load, 0, path)
        engine.create_staging_view(FULL_LOAD_VIEW, loaded_files, spec)
        _check_values(engine, spec, FULL_LOAD_VIEW, loaded_files)
        replaced = int(engine.execute(row_count_sql(spec, catalog))[0][0])
        engine.execute(replace_table_sql(spec, catalog, FULL_LOAD_VIEW))
        loaded = int(engine.execute(row_count_sql(spec, catalog))[0][0])
        counts += Counts(inserted=loaded, deleted=replaced)
    if plan.changes:
        change_files = _staging(plan.changes, len(plan.load), path)
        engine.create_staging_view(CHANGES_VIEW, change_files, spec)
        _check_values(engine, spec, CHANGES_VIEW, change_files)
        if spec.mode == "current":
            engine.materialize_view(LATEST_VIEW, latest_changes_sql(spec, CHANGES_VIEW))
            counts += Counts.from_row(engine.execute(merge_counts_sql(spec, catalog, LATEST_VIEW)))
            engine.execute(merge_sql(spec, catalog, LATEST_VIEW))
        else:
            counts += Counts.from_row(engine.execute(history_counts_sql(spec, CHANGES_VIEW)))
            engine.execute(history_insert_sql(spec, catalog, CHANGES_VIEW))
    return counts


def _drop_views(engine: SqlEngine) -> None:
    for view in (LATEST_VIEW, CHANGES_VIEW, FULL_LOAD_VIEW):
        try:
            engine.drop_view(view)
        except Exception:  # cleanup must not hide the table's own outcome
            logger.warning("could not drop view %s", view, exc_info=True)


def _describe(error: BaseException) -> str:
    """What the history keeps of a failure: short and bounded (errors.summarize); the full
    error, with its stack, is logged where it is caught."""
    return summarize(error).text()


@dataclass
class _TableRun:
    """What one table's processing needs; each table gets its own."""

    batch: Batch
    engine: SqlEngine
    leases: Leases
    tracker: FileTracker
    history: History
    clock: Clock
    catalog: str
    path: Callable[[PendingFile], str]

    def process(self, raw: object) -> TableOutcome:
        started = self.clock()
        name = raw.get(SOURCE_TABLE) if isinstance(raw, Mapping) else None
        source_table = name if isinstance(name, str) and name else "<invalid table spec>"
        config_error = raw.get(CONFIG_ERROR_KEY) if isinstance(raw, Mapping) else None
        if config_error:  # e.g. the config was removed after the run was planned
            return self._finish(started, TableOutcome(source_table, "failed", error=config_error))
        try:
            spec = TableSpec.from_dict(raw if isinstance(raw, Mapping) else {})
        except ValueError as error:
            return self._finish(started, TableOutcome(source_table, "failed", error=str(error)))
        try:
            acquired = self.leases.acquire(spec.source_table, self.batch.run_id)
        except Exception as error:
            logger.exception("lease of %s not taken", spec.source_table)
            return self._finish(
                started, TableOutcome(source_table, "failed", error=_describe(error))
            )
        if not acquired:
            logger.info("%s is locked by another run: skipped", spec.source_table)
            return self._finish(started, TableOutcome(source_table, "skipped_locked"))
        outcome = self._finish(started, self._merge(spec))
        try:
            if not self.leases.release(spec.source_table, self.batch.run_id):
                logger.warning("lease of %s was no longer this run's", spec.source_table)
        except Exception:  # the lease expires on its own
            logger.warning("lease of %s not released", spec.source_table, exc_info=True)
        return outcome

    def _merge(self, spec: TableSpec) -> TableOutcome:
        files: list[PendingFile] = []
        try:
            files = self.tracker.pending_files(spec.source_table)
            if not files:
                return TableOutcome(spec.source_table, "succeeded")
            plan = plan_files(files)
            try:
                counts = apply_plan(self.engine, spec, plan, self.catalog, self.path)
            finally:
                _drop_views(self.engine)
            self.tracker.mark_processed(plan.all_files, self.batch.run_id)
        except Exception as error:  # one table's failure must not stop the others
            logger.exception("%s failed", spec.source_table)
            return TableOutcome(
                spec.source_table, "failed", files=len(files), error=_describe(error)
            )
        return TableOutcome(
            spec.source_table,
            "succeeded",
            files=len(files),
            counts=counts,
            full_load=bool(plan.load),
        )

    def _finish(self, started: datetime, outcome: TableOutcome) -> TableOutcome:
        finished = self.clock()
        record = HistoryRecord(
            source_table=outcome.source_table,
            run_id=self.batch.run_id,
            batch_id=self.batch.batch_id,
            status=outcome.status,
            started_at=started,
            finished_at=finished,
            files=outcome.files,
            inserted=outcome.counts.inserted,
            updated=outcome.counts.updated,
            deleted=outcome.counts.deleted,
            full_load=outcome.full_load,
            error=outcome.error,
        )
        outcome = replace(outcome, duration_ms=record.duration_ms)
        try:
            self.history.record(record)
        except Exception as error:  # an unrecorded table is a failure monitoring must see
            logger.exception("history of %s not recorded", outcome.source_table)
            note = f"history not recorded: {_describe(error)}"
            outcome = replace(
                outcome,
                status="failed",
                error=f"{outcome.error}; {note}" if outcome.error else note,
            )
        logger.info("table outcome %s", outcome.as_json())
        return outcome


def process_batch(  # noqa: PLR0917 - the collaborators, in the order the job wires them
    batch: Mapping[str, Any],
    engine: SqlEngine,
    leases: Leases,
    tracker: FileTracker,
    history: History,
    clock: Clock,
    *,
    catalog: str = DEFAULT_CATALOG,
    path: Callable[[PendingFile], str] = lambda file: file.uri,
) -> BatchOutcome:
    """Processes every table of the batch, each on its own; never raises for one table's failure.

    ``path`` maps a pending file to what the engine reads (its s3:// URI on Glue; a local copy in
    the local runtime).
    """
    parsed = Batch.from_dict(batch)
    run = _TableRun(
        parsed, engine, leases, tracker, history, clock, validate_catalog(catalog), path
    )
    outcomes = tuple(run.process(raw) for raw in parsed.tables)
    return BatchOutcome(parsed.batch_id, parsed.run_id, outcomes)
