"""The pipeline configuration: which source tables are merged into which Iceberg tables, on
which cadence, and how many tables one Glue run takes.

One file (YAML or JSON) holds it all::

    batches:                      # one per cadence (a schedule runs one cadence)
      - cadence: hourly
        schedule: rate(1 hour)    # optional for hourly, daily, <N>min, <N>h (schedule_expressions)
        batch_size: 2             # tables per Glue run
        max_parallel_batches: 2   # Glue runs at once
    tables:
      - cadence: hourly
        source_table: sales.orders
        target_database: sales
        target_table: orders
        columns: [{name: order_id, type: bigint}, {name: amount, type: "decimal(10,2)"}]
        primary_key: [order_id]
        sequence_column: change_ts

DMS writes CSV files without a header, so the columns are declared in file order. ``columns``
are the DATA columns only:

- a CDC file holds ``Op, <sequence_column>, <columns...>``: ``Op`` is the operation (I, U or D)
  and the sequence column orders the changes (DMS's commit timestamp, ``TimestampColumnName``),
  of type ``sequence_column_type``;
- a full-load file (``LOAD*``) holds ``<columns...>`` only: its rows are inserts with the lowest
  sequence, so any CDC change of the same key wins over them.

The sequence column is therefore never one of ``columns``. Parquet files carry the same
columns by name.

``parse_pipeline_config`` validates a whole file (read by config_documents) and reports every
problem at once (config_problems), each with its location (``tables[3].primary_key``) and, for
YAML, its line. The rules spanning fields and items are config_rules'; a TableConfig's fields,
choices, name rules and column types are datalake_contracts.table_config's.
"""

from collections.abc import Mapping
from typing import Annotated, ClassVar, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from datalake_contracts import table_config as contract
from datalake_contracts.table_config import FileFormat, FullLoadLayout, Mode
from datalake_shared.cdc_tables import CdcTables
from datalake_shared.config_documents import line_of, load_document
from datalake_shared.config_problems import (
    ConfigProblem,
    Location,
    PipelineConfigError,
    format_location,
)
from datalake_shared.config_rules import (
    TABLES,
    column_list_problem,
    column_reference_problems,
    cross_item_problems,
    duplicates,
    sequence_column_problem,
)
from datalake_shared.redshift_log_groups import RedshiftLogGroups
from datalake_shared.schedule_expressions import (
    NO_SCHEDULE,
    ScheduleExpressionError,
    check_schedule,
    default_schedule,
)
from datalake_shared.table_maintenance import TableMaintenance
from datalake_shared.workbook_tables import WorkbookTables

# Each BatchConfig / TableConfig is stored as its JSON in one DynamoDB item (config_store), and
# an item holds at most 400 KB (409,600 bytes) with its keys and bookkeeping attributes (about
# 1.2 KB at most). A config over this cannot be stored, so it is invalid.
MAX_ITEM_BYTES: Final = 400 * 1024
MAX_STORED_CONFIG_BYTES: Final = MAX_ITEM_BYTES - 2 * 1024
_CONFLICT_ERROR: Final = "pipeline_config_conflict"

WorkerType = Literal["G.1X", "G.2X", "G.4X", "G.8X", "G.025X"]


def _column_type(value: str) -> str:
    """Canonical spelling of a column type: lower case, ``decimal(p,s)`` without spaces."""
    canonical = contract.canonical_column_type(value)
    if canonical is not None:
        return canonical
    if contract.is_decimal_spelling(value):
        raise ValueError(
            f"{value!r}: decimal(p,s) needs 1 <= p <= {contract.MAX_DECIMAL_PRECISION} "
            "and 0 <= s <= p"
        )
    raise ValueError(
        f"unknown column type {value!r}; use one of {', '.join(contract.SIMPLE_TYPES)} "
        "or decimal(p,s)"
    )


ColumnType = Annotated[str, AfterValidator(_column_type)]


def _not_reserved(name: str) -> str:
    if contract.is_reserved_column(name):
        raise ValueError(
            f"names starting with {contract.RESERVED_COLUMN_PREFIX!r} are the merge job's own"
        )
    return name


ColumnName = Annotated[
    str, Field(pattern=contract.COLUMN_NAME_PATTERN), AfterValidator(_not_reserved)
]
Cadence = Annotated[str, Field(pattern=contract.CADENCE_PATTERN)]
TargetName = Annotated[str, Field(pattern=contract.TARGET_NAME_PATTERN)]


class _ConfigModel(BaseModel):
    # Strict: a config file says what it means ("2" is not 2, "yes" is not true); an unknown
    # key is a typo, never silently ignored.
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


class _StoredConfigModel(_ConfigModel):
    """A config stored as one DynamoDB item: its JSON must fit in one."""

    @model_validator(mode="after")
    def _fits_one_dynamodb_item(self) -> Self:
        size = len(self.model_dump_json().encode())
        if size > MAX_STORED_CONFIG_BYTES:
            raise ValueError(
                f"takes {size:,} bytes as stored, over the {MAX_STORED_CONFIG_BYTES:,} one "
                f"DynamoDB item (400 KB) leaves for it: {self._shrink_hint}"
            )
        return self

    _shrink_hint: ClassVar[str] = "shorten it"


class BatchConfig(_StoredConfigModel):
    """How one cadence's tables are merged: how many per Glue run, how many runs at once."""

    _shrink_hint: ClassVar[str] = "shorten its description"

    cadence: Cadence
    batch_size: int = Field(ge=1, le=200, description="tables per Glue job run")
    max_parallel_batches: int = Field(ge=1, le=50, description="Glue job runs at once")
    worker_type: WorkerType = "G.1X"
    number_of_workers: int = Field(default=2, ge=2, le=299)
    description: str = ""
    schedule: str | None = Field(
        default=None,
        description="EventBridge Scheduler rate(...)/cron(...), or none; default by name",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule_is_an_expression(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            return check_schedule(value)
        except ScheduleExpressionError as error:
            raise ValueError(str(error)) from None

    @model_validator(mode="after")
    def _cadence_has_a_schedule(self) -> Self:
        # Checked here, not when a schedule is made: a cadence that never runs is a config error.
        if self.schedule is None and default_schedule(self.cadence) is None:
            raise ValueError(
                f"cadence {self.cadence!r} has no default schedule (only hourly, daily, <N>min "
                "and <N>h have one): add schedule: rate(...) or cron(...), or "
                f"schedule: {NO_SCHEDULE} to start its runs by hand"
            )
        return self

    @property
    def effective_schedule(self) -> str | None:
        """The expression its schedule runs on; None: no schedule (``schedule: none``)."""
        schedule = self.schedule or default_schedule(self.cadence)
        return None if schedule == NO_SCHEDULE else schedule


class ColumnConfig(_ConfigModel):
    """One data column of a source table, in file order (fields: the contract's COLUMN_FIELDS)."""

    name: ColumnName
    type: ColumnType


def _column_names(info: ValidationInfo) -> list[str] | None:
    """The table's column names, or None when ``columns`` itself is invalid (already reported)."""
    columns = info.data.get(contract.COLUMNS)
    if columns is None:
        return None
    return [column.name for column in columns]


class TableConfig(_StoredConfigModel):
    """One source table: where its DMS files merge to, on which cadence, and how.

    See the module docstring for the file layout: ``columns`` are the data columns; CDC files
    put ``Op`` and the ``sequence_column`` before them. Full-load files have only them, unless
    ``full_load_layout`` says DMS puts the sequence column (``TimestampColumnName``) or ``Op``
    and the sequence column (``IncludeOpForFullLoad`` too) before them as well. The fields,
    their choices, defaults, name rules and types are datalake_contracts.table_config's (the
    Glue job reads the same contract; a unit test holds the field names to it).
    """

    _shrink_hint: ClassVar[str] = "declare fewer or shorter columns"

    cadence: Cadence
    source_table: str = Field(
        pattern=contract.SOURCE_TABLE_PATTERN,
        max_length=contract.MAX_SOURCE_TABLE_LENGTH,
        description="<schema>.<table>",
    )
    target_database: TargetName
    target_table: TargetName
    columns: list[ColumnConfig] = Field(min_length=1)
    primary_key: list[ColumnName] = Field(min_length=1)
    sequence_column: ColumnName
    sequence_column_type: ColumnType = contract.DEFAULT_SEQUENCE_COLUMN_TYPE
    file_format: FileFormat = contract.DEFAULT_FILE_FORMAT
    mode: Mode = contract.DEFAULT_MODE
    full_load_layout: FullLoadLayout = contract.DEFAULT_FULL_LOAD_LAYOUT
    partition_by: list[ColumnName] = Field(default_factory=list)
    active: bool = contract.DEFAULT_ACTIVE
    maintenance: TableMaintenance = Field(default_factory=TableMaintenance)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @field_validator("columns")
    @classmethod
    def _columns_are_distinct(cls, columns: list[ColumnConfig]) -> list[ColumnConfig]:
        names = [column.name for column in columns]
        if any(contract.is_operation_column(name) for name in names):
            raise ValueError(
                f"{contract.OPERATION_COLUMN!r} is the CDC operation column DMS adds; "
                "list data columns only"
            )
        repeated = duplicates(names)
        if repeated:
            raise ValueError(f"duplicate column names (case-insensitive): {repeated}")
        return columns

    @field_validator("primary_key", "partition_by")
    @classmethod
    def _distinct_columns_of_the_table(cls, names: list[str], info: ValidationInfo) -> list[str]:
        problem = column_list_problem(names, _column_names(info))
        if problem:
            raise ValueError(problem)
        return names

    @field_validator("sequence_column")
    @classmethod
    def _sequence_column_precedes_the_data(cls, name: str, info: ValidationInfo) -> str:
        problem = sequence_column_problem(name, _column_names(info))
        if problem:
            raise ValueError(problem)
        return name

    @field_validator("sequence_column_type")
    @classmethod
    def _sequence_is_orderable(cls, value: str) -> str:
        if value in contract.UNORDERED_TYPES:
            raise ValueError("a boolean cannot order changes")
        return value


class PipelineConfig(_ConfigModel):
    """A whole config file: the batch config of each cadence and the tables to merge."""

    batches: list[BatchConfig] = Field(min_length=1)
    tables: list[TableConfig] = Field(default_factory=list)
    # DynamoDB streams applied to Iceberg tables by iceberg_cdc (cdc_tables).
    cdc_tables: CdcTables = Field(default_factory=list)
    # Absent: this file leaves the Redshift subscriptions as they are (redshift_log_groups).
    redshift_log_groups: RedshiftLogGroups | None = None
    # Athena tables over cleaned workbooks (workbook_tables); absent: left as they are.
    workbook_tables: WorkbookTables | None = None

    @model_validator(mode="after")
    def _items_agree(self) -> "PipelineConfig":
        problems = cross_item_problems(self)
        if problems:
            raise PydanticCustomError(
                _CONFLICT_ERROR,
                "{problems}",
                {"problems": "; ".join(f"{format_location(loc)}: {msg}" for loc, msg in problems)},
            )
        return self

    def batch(self, cadence: str) -> BatchConfig | None:
        return next((batch for batch in self.batches if batch.cadence == cadence), None)


def unwritable_targets(config: PipelineConfig, writable: frozenset[str]) -> list[ConfigProblem]:
    """Tables whose target database the stack's Glue job may not write (its IAM role is
    scoped to the stack's MergeTargetDatabases): caught at upload, not at the first merge."""
    allowed = ", ".join(sorted(writable))
    return [
        ConfigProblem(
            f"{TABLES}[{index}].{contract.TARGET_DATABASE}",
            f"{table.target_database!r} is not one of this stack's MergeTargetDatabases "
            f"({allowed}); add it to that parameter and redeploy, or pick one of them",
        )
        for index, table in enumerate(config.tables)
        if table.target_database not in writable
    ]


# ------------------------------------------------------------------------------ parsing


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if kind != "value_error" and isinstance(value, str | int | float | bool):
        message += f" (got {value!r})"
    return message


def _problems(
    error: ValidationError, data: object, lines: Mapping[Location, int]
) -> list[ConfigProblem]:
    found: list[tuple[Location, str]] = [
        (tuple(detail["loc"]), _message(detail))
        for detail in error.errors(include_url=False)
        if detail["type"] != _CONFLICT_ERROR
    ]
    reported = {location for location, _ in found}
    # Tables with an invalid column: validation skipped their column references.
    invalid_columns = {
        location[1]
        for location in reported
        if location[:1] == (TABLES,)
        and len(location) >= 3
        and location[2] == contract.COLUMNS
        and isinstance(location[1], int)
    }
    found += [
        (location, message)
        for location, message in [
            *column_reference_problems(data, invalid_columns),
            *cross_item_problems(data),
        ]
        if location not in reported
    ]
    return [
        ConfigProblem(format_location(location), message, line_of(location, lines))
        for location, message in found
    ]


def _line_order(problem: ConfigProblem) -> int:
    """Problems in file order where lines are known; a stable sort keeps the rest as found."""
    return problem.line if problem.line is not None else 0


def parse_pipeline_config(text: str, filename: str) -> PipelineConfig:
    """Validates a whole config file (YAML for .yaml/.yml, JSON for .json).

    Raises ``PipelineConfigError`` listing every problem (YAML problems in line order), never
    just the first, so one round of fixes is enough.
    """
    document = load_document(text, filename)
    try:
        config = PipelineConfig.model_validate(document.data)
    except ValidationError as error:
        problems = document.duplicates + _problems(error, document.data, document.lines)
        raise PipelineConfigError(filename, sorted(problems, key=_line_order)) from None
    if document.duplicates:
        raise PipelineConfigError(filename, document.duplicates)
    return config
