"""Applies a batch of DynamoDB stream records to the Iceberg table: the domain logic.

1. Read the records (``ChangeReader``): the changes of each key, in stream order; TTL removals
   dropped when TTL_DELETES=ignore; records that cannot be read fail alone.
2. Read the table's columns (cached Glue schema). Attributes the table lacks are ignored and
   reported, or (UNKNOWN_ATTRIBUTES=add) added with ``ALTER TABLE ... ADD COLUMNS``.
3. Convert each key's final image to its columns' types; a key whose value cannot be
   converted fails (and is reported), the others go on.
4. Write all keys with as few MERGE statements as the query-size limit allows (normally one).
   A statement Athena rejects, or whose commit conflicts outlast the retries, is bisected to
   find the key(s) at fault: every other key is applied and only the failing keys are reported.

Reporting follows DynamoDB Streams' ReportBatchItemFailures: a failing key is reported by the
earliest sequence number of its records in the batch, a record that fails alone by its own.
Lambda checkpoints at the lowest reported number and delivers everything from there again.

Why applying a record twice is harmless: each key's row is written from the key's *final*
image in the batch (every column: attributes the image lacks become NULL), or deleted. The
MERGE therefore sets rows to values that depend only on the images, never on what the table
held: running it again leaves the table as it was after the first run. When Lambda replays from
a reported record, every later record is replayed too, in stream order, so each key again ends
at its last image (a shorter retried batch may briefly show an earlier image of a key, which the
next batch overwrites).
"""

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol

from iceberg_cdc.athena import RunResult, RunStatus
from iceberg_cdc.attribute_values import DynamoValue
from iceberg_cdc.catalog import CatalogError, TableSchema
from iceberg_cdc.changes import ChangeKind, ChangeReader, KeyChanges, RecordFailure, TtlPolicy
from iceberg_cdc.column_types import infer_glue_type
from iceberg_cdc.conversion import ColumnValue, ConversionError, Converter, converter
from iceberg_cdc.sql import (
    ATHENA_MAX_QUERY_BYTES,
    MergeBuilder,
    RowChange,
    TargetTable,
    UnsafeIdentifierError,
    add_columns_sql,
    is_plain_name,
)

if TYPE_CHECKING:
    # Annotation only: importing Powertools' batch package costs every cold start (see handler.py).
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailures

DEFAULT_MAX_STATEMENTS: Final = 32
DEFAULT_MIN_SECONDS_PER_STATEMENT: Final = 10.0


class UnknownAttributePolicy(StrEnum):
    IGNORE = "ignore"
    ADD = "add"


class SchemaCatalog(Protocol):
    def table_schema(self, database: str, table: str) -> TableSchema: ...

    def invalidate(self, database: str, table: str) -> None: ...


class StatementRunner(Protocol):
    def run(self, sql: str, remaining: Callable[[], float]) -> RunResult: ...


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    database: str
    table: str
    key_columns: tuple[str, ...] = ()
    """KEY_COLUMNS; empty: the attributes of each record's Keys."""
    ttl_policy: TtlPolicy = TtlPolicy.APPLY
    unknown_attributes: UnknownAttributePolicy = UnknownAttributePolicy.IGNORE
    max_query_bytes: int = ATHENA_MAX_QUERY_BYTES
    max_statements: int = DEFAULT_MAX_STATEMENTS
    """Statements one invocation may start (bisection included); the rest is retried later."""
    min_seconds_per_statement: float = DEFAULT_MIN_SECONDS_PER_STATEMENT
    """No statement is started with less time left than this."""


@dataclass(slots=True)
class ApplyReport:
    records: int = 0
    applied: list[KeyChanges] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    """Sequence number -> reason, for every record reported in batchItemFailures (applied
    records too when their announcement cannot be put: ``fail_applied``)."""
    failed_records: int = 0
    """Records whose change did not reach the table (a failing key counts all its records)."""
    statements: int = 0
    """Statements started (MERGE and ALTER), bisection included, retries not."""
    query_execution_ids: list[str] = field(default_factory=list)
    conflicts_retried: int = 0
    throttles_retried: int = 0
    ttl_ignored: int = 0
    unknown_attributes: dict[str, int] = field(default_factory=dict)
    """Attribute the table lacks (and that was not added) -> records that carried it."""
    columns_added: list[tuple[str, str]] = field(default_factory=list)
    first_sequence_number: str | None = None
    last_sequence_number: str | None = None
    warnings: list[str] = field(default_factory=list)
    """Problems that fail no record but deserve a log line."""

    @property
    def records_applied(self) -> int:
        return sum(len(key.changes) for key in self.applied)

    def count(self, effect: str) -> int:
        return sum(key.net_effect == effect for key in self.applied)

    def summary(self) -> dict[str, Any]:
        """What the batch did, as the log line and the announcement both say it."""
        return {
            "records": self.records,
            "records_applied": self.records_applied,
            "records_failed": self.failed_records,
            "keys_applied": len(self.applied),
            "inserted": self.count("inserted"),
            "updated": self.count("updated"),
            "deleted": self.count("deleted"),
            "ttl_deletes_ignored": self.ttl_ignored,
            "statements": self.statements,
            "query_execution_ids": self.query_execution_ids,
        }

    def batch_item_failures(self) -> list["PartialItemFailures"]:
        """Lowest sequence number first (Lambda checkpoints there)."""
        ordered = sorted(self.failures, key=int)
        return [{"itemIdentifier": sequence_number} for sequence_number in ordered]

    def fail_record(self, failure: RecordFailure) -> None:
        self.failures.setdefault(failure.sequence_number, failure.reason)
        self.failed_records += 1

    def fail_key(self, key: KeyChanges, reason: str) -> None:
        self.failures.setdefault(key.earliest_sequence_number, reason)
        self.failed_records += len(key.changes)

    def fail_applied(self, reason: str) -> None:
        """Reports every applied key although its row is written, because what must follow the
        write (its announcement) cannot be done: Lambda replays the batch (harmless, see the
        module docstring) and, its retries spent, hands it to the failure destination.
        ``failed_records`` still counts only records whose change missed the table."""
        for key in self.applied:
            self.failures.setdefault(key.earliest_sequence_number, reason)


@dataclass(slots=True)
class _Pending:
    """A key ready to write, with the row it becomes."""

    history: KeyChanges
    row: RowChange


def _image_values(
    image: Mapping[str, DynamoValue], schema: TableSchema, converters: Mapping[str, Converter]
) -> dict[str, ColumnValue]:
    """Each attribute converted into the column of its name, else of its name ignoring case,
    unless an attribute of the column's exact name came earlier (an exact name wins).
    Attributes without a column are left out; raises ConversionError naming the column."""
    if converters.keys() >= image.keys():
        # Every attribute has a column's exact name (the usual image): one comprehension.
        try:
            return {
                name: None if value is None else converters[name](value)
                for name, value in image.items()
            }
        except ConversionError:
            pass  # converted again below, attribute by attribute, to name the column
    values: dict[str, ColumnValue] = {}
    loose: set[str] = set()  # columns last set by an attribute named so but for case
    column_name = ""
    try:
        for name, value in image.items():
            convert = converters.get(name)
            if convert is not None:  # the attribute has the column's exact name
                column_name = name
                loose.discard(name)
            else:
                column = schema.column_for(name)
                if column is None:
                    continue
                column_name = column.name
                if column_name in values and column_name not in loose:
                    continue
                loose.add(column_name)
                convert = converters[column_name]
            values[column_name] = None if value is None else convert(value)
    except ConversionError as error:
        raise error.within(column_name) from None
    return values


class _Budget:
    def __init__(self, options: ApplyOptions, remaining: Callable[[], float]) -> None:
        self.statements_left = options.max_statements
        self.min_seconds = options.min_seconds_per_statement
        self.remaining = remaining
        self.stopped: str | None = None

    def allows_statement(self) -> str | None:
        """None if another statement may start, else why not."""
        if self.stopped:
            return self.stopped
        if self.statements_left <= 0:
            return "statement budget of this invocation spent; retried by Lambda"
        if self.remaining() < self.min_seconds:
            return "not enough time left in this invocation; retried by Lambda"
        return None


class CdcApplier:
    """Applies batches of stream records to one Iceberg table."""

    def __init__(
        self, options: ApplyOptions, catalog: SchemaCatalog, runner: StatementRunner
    ) -> None:
        self.options = options
        self.catalog = catalog
        self.runner = runner
        self.reader = ChangeReader(options.key_columns, options.ttl_policy)
        self._refused_columns: set[str] = set()
        """Columns Athena refused to add: not asked again by this container."""
        self._reported_schema: TableSchema | None = None

    # ------------------------------------------------------------------ the batch

    def apply(
        self, raw_records: Sequence[Mapping[str, Any]], remaining: Callable[[], float]
    ) -> ApplyReport:
        parsed = self.reader.read(raw_records)
        report = ApplyReport(records=parsed.records, ttl_ignored=parsed.ttl_ignored)
        if parsed.sequence_numbers:
            report.first_sequence_number = parsed.sequence_numbers[0]
            report.last_sequence_number = parsed.sequence_numbers[-1]
        for failure in parsed.failures:
            report.fail_record(failure)
        live: list[KeyChanges] = []
        for key in parsed.keys:
            for change in key.superseded_invalid:
                report.fail_record(
                    RecordFailure(change.sequence_number, change.event_id, change.reason or "")
                )
            if key.final.kind is ChangeKind.INVALID:
                report.fail_key(key, key.final.reason or "invalid record")
            else:
                live.append(key)
        if not live:
            return report

        budget = _Budget(self.options, remaining)
        try:
            schema = self.catalog.table_schema(self.options.database, self.options.table)
            self._report_skipped_columns(schema, report)
            schema = self._handle_unknown_attributes(live, schema, report, budget)
        except CatalogError as error:
            for key in live:
                report.fail_key(key, str(error))
            return report

        for group in self._groups(live):
            self._apply_group(group, schema, report, budget)
        return report

    def _report_skipped_columns(self, schema: TableSchema, report: ApplyReport) -> None:
        """Columns of types this function cannot write, once per schema read."""
        if schema.skipped and schema is not self._reported_schema:
            skipped = [f"{column.name} {column.glue_type}" for column in schema.skipped]
            report.warnings.append(f"columns left out of every statement: {skipped}")
        self._reported_schema = schema

    # ------------------------------------------------------------------ unknown attributes

    def _unknown(
        self, live: Sequence[KeyChanges], schema: TableSchema
    ) -> dict[str, list[DynamoValue]]:
        unknown: dict[str, list[DynamoValue]] = {}
        column_names = frozenset(column.name for column in schema.columns)
        for key in live:
            image = key.final.image
            if key.final.kind is not ChangeKind.UPSERT or image is None:
                continue
            if column_names.issuperset(image):  # every attribute named exactly as a column
                continue
            for name, value in image.items():
                if schema.column_for(name) is None:
                    unknown.setdefault(name, []).append(value)
        return unknown

    def _handle_unknown_attributes(
        self,
        live: Sequence[KeyChanges],
        schema: TableSchema,
        report: ApplyReport,
        budget: _Budget,
    ) -> TableSchema:
        unknown = self._unknown(live, schema)
        if unknown and self.options.unknown_attributes is UnknownAttributePolicy.ADD:
            schema = self._add_columns(unknown, schema, report, budget)
            unknown = self._unknown(live, schema)
        report.unknown_attributes = {name: len(values) for name, values in unknown.items()}
        return schema

    def _add_columns(
        self,
        unknown: Mapping[str, Sequence[DynamoValue]],
        schema: TableSchema,
        report: ApplyReport,
        budget: _Budget,
    ) -> TableSchema:
        """Adds a column per unknown attribute whose name is a plain identifier once lowercased
        and whose type shows in a non-NULL value; the others stay unknown (reported)."""
        new_columns: dict[str, str] = {}
        for attribute, values in unknown.items():
            name = attribute.lower()
            glue_type = next(
                (inferred for value in values if (inferred := infer_glue_type(value))), None
            )
            if glue_type is None or not is_plain_name(name) or schema.has_column(name):
                continue
            if name in self._refused_columns:
                continue
            new_columns.setdefault(name, glue_type)
        if not new_columns:
            return schema
        try:
            sql = add_columns_sql(
                self.options.database, self.options.table, list(new_columns.items())
            )
        except UnsafeIdentifierError as error:
            report.warnings.append(f"columns cannot be added: {error}")
            return schema
        if (refusal := budget.allows_statement()) is not None:
            raise CatalogError(f"cannot add columns {sorted(new_columns)}: {refusal}")
        result = self._run(sql, report, budget)
        if result.status is RunStatus.FAILED:
            self._refused_columns.update(new_columns)
            report.warnings.append(
                f"Athena refused to add columns {sorted(new_columns)}: {result.error}"
            )
        elif result.status is not RunStatus.SUCCEEDED:
            # Throttled or out of time: without the columns these records would lose data.
            raise CatalogError(f"adding columns {sorted(new_columns)} failed: {result.error}")
        self.catalog.invalidate(self.options.database, self.options.table)
        refreshed = self.catalog.table_schema(self.options.database, self.options.table)
        report.columns_added = [
            (name, glue_type)
            for name, glue_type in new_columns.items()
            if refreshed.column_for(name) is not None
        ]
        return refreshed

    # ------------------------------------------------------------------ rows

    def _groups(self, live: Sequence[KeyChanges]) -> list[list[KeyChanges]]:
        """Keys grouped by the names of their key attributes (one group in practice)."""
        groups: dict[tuple[str, ...], list[KeyChanges]] = {}
        for key in live:
            groups.setdefault(tuple([name for name, _ in key.key]), []).append(key)
        return list(groups.values())

    def _target(self, names: Sequence[str], schema: TableSchema) -> TargetTable:
        key_columns: list[str] = []
        for name in names:
            column = schema.column_for(name)
            if column is None:
                raise CatalogError(
                    f"key attribute {name!r} is not a column of "
                    f"{self.options.database}.{self.options.table}"
                )
            key_columns.append(column.name)
        return TargetTable(
            self.options.database, self.options.table, schema.columns, tuple(key_columns)
        )

    def _row(
        self,
        key: KeyChanges,
        target: TargetTable,
        schema: TableSchema,
        converters: Mapping[str, Converter],
    ) -> RowChange:
        """The key's final state as a row; raises ConversionError. ``converters``: each
        column's, by column name (built once per batch)."""
        change = key.final
        values: dict[str, ColumnValue] = {}
        if change.kind is ChangeKind.UPSERT and change.image is not None:
            values = _image_values(change.image, schema, converters)
        for (attribute, raw), column_name in zip(key.key, target.key_columns, strict=True):
            try:
                # Never None: a key value is S, N or B (changes._hashable).
                converted = converters[column_name](raw)  # type: ignore[arg-type]
            except ConversionError as error:
                raise error.within(column_name) from None
            if change.kind is ChangeKind.UPSERT and values.get(column_name) not in (
                None,
                converted,
            ):
                raise ConversionError(attribute, "the image's key differs from the record's Keys")
            values[column_name] = converted
        row_key: tuple[Hashable, ...] = tuple([values[name] for name in target.key_columns])  # type: ignore[misc]
        return RowChange(row_key, values, change.kind is ChangeKind.DELETE)

    def _apply_group(
        self,
        group: Sequence[KeyChanges],
        schema: TableSchema,
        report: ApplyReport,
        budget: _Budget,
    ) -> None:
        try:
            target = self._target([name for name, _ in group[0].key], schema)
        except CatalogError as error:
            for key in group:
                report.fail_key(key, str(error))
            return
        converters = {column.name: converter(column.type) for column in target.columns}
        pending: dict[tuple[object, ...], _Pending] = {}
        for key in group:
            try:
                row = self._row(key, target, schema, converters)
            except ConversionError as error:
                report.fail_key(key, f"cannot convert: {error}")
                continue
            history = key
            earlier = pending.pop(row.key, None)
            if earlier is not None:
                # Two DynamoDB keys became one table key (a key column whose type drops what
                # told them apart): the later change wins; both keys' records count for it.
                history = KeyChanges(key.key, [*earlier.history.changes, *key.changes])
            pending[row.key] = _Pending(history, row)
        try:
            builder = MergeBuilder(target, self.options.max_query_bytes)
        except ValueError as error:  # a limit too small for this table's MERGE
            for waiting in pending.values():
                report.fail_key(waiting.history, str(error))
            return
        self._write(builder, list(pending.values()), schema, report, budget)

    # ------------------------------------------------------------------ statements

    def _run(self, sql: str, report: ApplyReport, budget: _Budget) -> RunResult:
        budget.statements_left -= 1
        report.statements += 1
        result = self.runner.run(sql, budget.remaining)
        report.conflicts_retried += result.conflicts_retried
        report.throttles_retried += result.throttles_retried
        if result.succeeded and result.query_execution_id:
            report.query_execution_ids.append(result.query_execution_id)
        return result

    def _write(
        self,
        builder: MergeBuilder,
        rows: list[_Pending],
        schema: TableSchema,
        report: ApplyReport,
        budget: _Budget,
    ) -> None:
        """Runs the rows' statements; bisects a rejected statement down to the failing keys."""
        by_row = {id(pending.row): pending for pending in rows}
        work: list[list[_Pending]] = [rows]
        while work:
            chunk = work.pop()
            statements, too_large = builder.statements([pending.row for pending in chunk])
            for row, reason in too_large:
                report.fail_key(by_row[id(row)].history, f"too large for one statement: {reason}")
            halves: list[list[_Pending]] = []
            for statement in statements:
                members = [by_row[id(row)] for row in statement.rows]
                refusal = budget.allows_statement()
                if refusal is not None:
                    for pending in members:
                        report.fail_key(pending.history, refusal)
                    continue
                result = self._run(statement.sql, report, budget)
                if result.succeeded:
                    report.applied.extend(pending.history for pending in members)
                    continue
                self.catalog.invalidate(schema.database, schema.table)
                if result.status is RunStatus.TRANSIENT:
                    budget.stopped = f"Athena: {result.error}; retried by Lambda"
                    for pending in members:
                        report.fail_key(pending.history, budget.stopped)
                elif len(members) == 1:
                    report.fail_key(members[0].history, f"Athena rejected the key: {result.error}")
                else:
                    middle = len(members) // 2
                    halves.extend([members[middle:], members[:middle]])
            work.extend(halves)  # a stack: depth first, each left half before its right
