"""The pipeline configuration: which source tables are merged into which Iceberg tables, on
which cadence, and how many tables one Glue run takes.

One file (YAML or JSON) holds it all::

    batches:                      # one per cadence (a schedule runs one cadence)
      - cadence: hourly
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

``parse_pipeline_config`` validates a whole file and reports every problem at once, each with
its location (``tables[3].primary_key``) and, for YAML, its line.
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Annotated, Any, ClassVar, Final, Literal, Self

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

CADENCE_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,39}$"
SOURCE_TABLE_PATTERN: Final = r"^[A-Za-z0-9_$-]+\.[A-Za-z0-9_$-]+$"
# The source table is the sort key of the TableConfig table: DynamoDB takes at most 1,024 bytes
# (the pattern is ASCII, so characters are bytes).
MAX_SOURCE_TABLE_LENGTH: Final = 1024
# Each BatchConfig / TableConfig is stored as its JSON in one DynamoDB item (config_store), and
# an item holds at most 400 KB (409,600 bytes) with its keys and bookkeeping attributes (about
# 1.2 KB at most). A config over this cannot be stored, so it is invalid.
MAX_ITEM_BYTES: Final = 400 * 1024
MAX_STORED_CONFIG_BYTES: Final = MAX_ITEM_BYTES - 2 * 1024
TARGET_NAME_PATTERN: Final = r"^[a-z0-9_]{1,255}$"
# Letters, digits and underscores only: names are safe to quote in the SQL we generate.
COLUMN_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"
OPERATION_COLUMN: Final = "Op"
# The merge job stages its bookkeeping columns as _cdc_op, _cdc_seq... (glue/cdc_merge/merge_sql)
RESERVED_COLUMN_PREFIX: Final = "_cdc_"
SIMPLE_TYPES: Final = ("string", "int", "bigint", "double", "boolean", "date", "timestamp")
MAX_DECIMAL_PRECISION: Final = 38
_DECIMAL = re.compile(r"decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")
YAML_SUFFIXES: Final = (".yaml", ".yml")
JSON_SUFFIXES: Final = (".json",)
# Aliases let a small YAML document expand into a huge one ("billion laughs"): stop early.
MAX_DOCUMENT_NODES: Final = 200_000
_CONFLICT_ERROR: Final = "pipeline_config_conflict"

WorkerType = Literal["G.1X", "G.2X", "G.4X", "G.8X", "G.025X"]
FileFormat = Literal["csv", "parquet"]
TableMode = Literal["current", "history"]
Location = tuple[str | int, ...]


def _column_type(value: str) -> str:
    """Canonical spelling of a column type: lower case, ``decimal(p,s)`` without spaces."""
    spelled = value.strip().lower()
    if spelled in SIMPLE_TYPES:
        return spelled
    decimal = _DECIMAL.fullmatch(spelled)
    if decimal is None:
        raise ValueError(
            f"unknown column type {value!r}; use one of {', '.join(SIMPLE_TYPES)} or decimal(p,s)"
        )
    precision, scale = int(decimal[1]), int(decimal[2])
    if not 1 <= precision <= MAX_DECIMAL_PRECISION or scale > precision:
        raise ValueError(
            f"{value!r}: decimal(p,s) needs 1 <= p <= {MAX_DECIMAL_PRECISION} and 0 <= s <= p"
        )
    return f"decimal({precision},{scale})"


ColumnType = Annotated[str, AfterValidator(_column_type)]


def _not_reserved(name: str) -> str:
    if name.lower().startswith(RESERVED_COLUMN_PREFIX):
        raise ValueError(f"names starting with {RESERVED_COLUMN_PREFIX!r} are the merge job's own")
    return name


ColumnName = Annotated[str, Field(pattern=COLUMN_NAME_PATTERN), AfterValidator(_not_reserved)]
Cadence = Annotated[str, Field(pattern=CADENCE_PATTERN)]
TargetName = Annotated[str, Field(pattern=TARGET_NAME_PATTERN)]


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


class ColumnConfig(_ConfigModel):
    """One data column of a source table, in file order."""

    name: ColumnName
    type: ColumnType


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    duplicates: list[str] = []
    for value in values:
        folded = value.casefold()
        if folded in seen and value not in duplicates:
            duplicates.append(value)
        seen.add(folded)
    return duplicates


def _column_names(info: ValidationInfo) -> list[str] | None:
    """The table's column names, or None when ``columns`` itself is invalid (already reported)."""
    columns = info.data.get("columns")
    if columns is None:
        return None
    return [column.name for column in columns]


def column_list_problem(names: Sequence[str], columns: Sequence[str] | None) -> str | None:
    """What is wrong with a list of the table's columns (primary_key, partition_by), if any.
    ``columns`` is None when unknown (then only duplicates are checked)."""
    duplicates = _duplicates(names)
    if duplicates:
        return f"lists {duplicates} more than once"
    if columns is not None:
        unknown = [name for name in names if name not in columns]
        if unknown:
            return f"{unknown} not among columns {list(columns)}"
    return None


def sequence_column_problem(name: str, columns: Sequence[str] | None) -> str | None:
    """The sequence column sits between Op and the data columns in CDC files."""
    if name.casefold() == OPERATION_COLUMN.casefold():
        return f"{OPERATION_COLUMN!r} is the operation column, not a sequence"
    if name.casefold() in (column.casefold() for column in columns or ()):
        return (
            f"{name!r} is also listed in columns: CDC files carry the sequence column "
            "between Op and the data columns, so declare it here only"
        )
    return None


class TableConfig(_StoredConfigModel):
    """One source table: where its DMS files merge to, on which cadence, and how.

    See the module docstring for the file layout: ``columns`` are the data columns; CDC files
    put ``Op`` and the ``sequence_column`` before them. Full-load files have only them, unless
    ``full_load_layout`` says DMS puts the sequence column (``TimestampColumnName``) or ``Op``
    and the sequence column (``IncludeOpForFullLoad`` too) before them as well.
    """

    _shrink_hint: ClassVar[str] = "declare fewer or shorter columns"

    cadence: Cadence
    source_table: str = Field(
        pattern=SOURCE_TABLE_PATTERN,
        max_length=MAX_SOURCE_TABLE_LENGTH,
        description="<schema>.<table>",
    )
    target_database: TargetName
    target_table: TargetName
    columns: list[ColumnConfig] = Field(min_length=1)
    primary_key: list[ColumnName] = Field(min_length=1)
    sequence_column: ColumnName
    sequence_column_type: ColumnType = "timestamp"
    file_format: FileFormat = "csv"
    mode: TableMode = "current"
    full_load_layout: Literal["columns", "sequence", "op_sequence"] = "columns"
    partition_by: list[ColumnName] = Field(default_factory=list)
    active: bool = True

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @field_validator("columns")
    @classmethod
    def _columns_are_distinct(cls, columns: list[ColumnConfig]) -> list[ColumnConfig]:
        names = [column.name for column in columns]
        if OPERATION_COLUMN.casefold() in (name.casefold() for name in names):
            raise ValueError(
                f"{OPERATION_COLUMN!r} is the CDC operation column DMS adds; list data columns only"
            )
        duplicates = _duplicates(names)
        if duplicates:
            raise ValueError(f"duplicate column names (case-insensitive): {duplicates}")
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
        if value == "boolean":
            raise ValueError("a boolean cannot order changes")
        return value


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file, where it is, and (for YAML) on which line."""

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        line = f" (line {self.line})" if self.line is not None else ""
        return f"{where}{self.message}{line}"


class PipelineConfigError(ValueError):
    """A config file was rejected; ``problems`` holds every problem found, in file order."""

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''}\n{lines}")


def unwritable_targets(config: "PipelineConfig", writable: frozenset[str]) -> list[ConfigProblem]:
    """Tables whose target database the stack's Glue job may not write (its IAM role is
    scoped to the stack's MergeTargetDatabases): caught at upload, not at the first merge."""
    allowed = ", ".join(sorted(writable))
    return [
        ConfigProblem(
            f"tables[{index}].target_database",
            f"{table.target_database!r} is not one of this stack's MergeTargetDatabases "
            f"({allowed}); add it to that parameter and redeploy, or pick one of them",
        )
        for index, table in enumerate(config.tables)
        if table.target_database not in writable
    ]


def format_location(location: Location) -> str:
    """``("tables", 3, "primary_key")`` -> ``tables[3].primary_key``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _get(item: object, name: str) -> object:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _items(data: object, name: str) -> list[object]:
    value = _get(data, name)
    return list(value) if isinstance(value, list) else []


def cross_item_problems(data: object) -> list[tuple[Location, str]]:
    """Rules between items of a file: unique cadences, one cadence and one target per table,
    every table's cadence configured. ``data`` is the raw file or a ``PipelineConfig``; items
    whose values are not even strings are left to the per-item validation."""
    problems: list[tuple[Location, str]] = []
    cadences: dict[str, int] = {}
    for index, batch in enumerate(_items(data, "batches")):
        cadence = _get(batch, "cadence")
        if not isinstance(cadence, str):
            continue
        if cadence in cadences:
            problems.append(
                (
                    ("batches", index, "cadence"),
                    f"cadence {cadence!r} is configured twice (also batches[{cadences[cadence]}])",
                )
            )
        else:
            cadences[cadence] = index

    homes: dict[str, tuple[str, int]] = {}
    targets: dict[tuple[str, str], int] = {}
    for index, table in enumerate(_items(data, "tables")):
        cadence, source = _get(table, "cadence"), _get(table, "source_table")
        if isinstance(cadence, str) and re.fullmatch(CADENCE_PATTERN, cadence):
            if cadence not in cadences:
                problems.append(
                    (
                        ("tables", index, "cadence"),
                        f"no batch config for cadence {cadence!r}; add it under batches "
                        f"(configured: {sorted(cadences)})",
                    )
                )
            if isinstance(source, str):
                home = homes.setdefault(source, (cadence, index))
                if home[1] != index:
                    same = home[0] == cadence
                    problems.append(
                        (
                            ("tables", index, "source_table"),
                            f"{source!r} is listed twice for cadence {cadence!r} "
                            f"(also tables[{home[1]}])"
                            if same
                            else f"{source!r} already belongs to cadence {home[0]!r} "
                            f"(tables[{home[1]}]); a table has one cadence",
                        )
                    )
        database, name = _get(table, "target_database"), _get(table, "target_table")
        if isinstance(database, str) and isinstance(name, str):
            first = targets.setdefault((database, name), index)
            if first != index:
                problems.append(
                    (
                        ("tables", index, "target_table"),
                        f"{database}.{name} is already the target of tables[{first}]",
                    )
                )
    return problems


class PipelineConfig(_ConfigModel):
    """A whole config file: the batch config of each cadence and the tables to merge."""

    batches: list[BatchConfig] = Field(min_length=1)
    tables: list[TableConfig] = Field(default_factory=list)

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


# ------------------------------------------------------------------------------ parsing


@dataclass
class _YamlIndex:
    """Where each value of a YAML document starts, and the keys it repeats."""

    lines: dict[Location, int]
    duplicates: list[ConfigProblem]
    nodes: int = 0


def _index_yaml(node: Any, location: Location, index: _YamlIndex) -> None:
    """Walks PyYAML's node tree (``node.id`` is "scalar", "sequence" or "mapping")."""
    index.nodes += 1
    if index.nodes > MAX_DOCUMENT_NODES:
        raise PipelineConfigError(
            "", [ConfigProblem("", f"document has more than {MAX_DOCUMENT_NODES} values")]
        )
    index.lines.setdefault(location, node.start_mark.line + 1)
    if node.id == "mapping":
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                index.duplicates.append(
                    ConfigProblem(
                        format_location((*location, key)),
                        "duplicate key: the later value would silently replace the earlier one",
                        key_node.start_mark.line + 1,
                    )
                )
                continue
            seen.add(key)
            _index_yaml(value_node, (*location, key), index)
    elif node.id == "sequence":
        for position, item in enumerate(node.value):
            _index_yaml(item, (*location, position), index)


def _load_yaml(text: str, source: str) -> tuple[object, _YamlIndex]:
    # Imported here: only config loaders need PyYAML; the other functions read stored configs.
    import yaml  # type: ignore[import-untyped]  # noqa: PLC0415  (PyYAML ships no stubs)

    index = _YamlIndex(lines={}, duplicates=[])
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, index
        _index_yaml(node, (), index)
        return loader.construct_document(node), index
    except PipelineConfigError as error:
        raise PipelineConfigError(source, error.problems) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.context, error.problem) if part)
        line = mark.line + 1 if mark is not None else None
        problem = ConfigProblem("", f"not valid YAML: {message}", line)
        raise PipelineConfigError(source, [problem]) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise PipelineConfigError(source, [ConfigProblem("", f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()


def _load_json(text: str, source: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PipelineConfigError(
            source, [ConfigProblem("", f"not valid JSON: {error.msg}", error.lineno)]
        ) from None
    except RecursionError:
        raise PipelineConfigError(source, [ConfigProblem("", "JSON nested too deeply")]) from None


def _line_of(location: Location, lines: Mapping[Location, int]) -> int | None:
    """Line of the value at ``location``, else of its nearest enclosing value (a missing key)."""
    for end in range(len(location), -1, -1):
        line = lines.get(location[:end])
        if line is not None:
            return line
    return None


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


def _raw_column_names(table: object) -> list[str]:
    return [
        name for column in _items(table, "columns") if isinstance(name := _get(column, "name"), str)
    ]


def _column_reference_problems(data: object, reported: set[Location]) -> list[tuple[Location, str]]:
    """Checks against a table's column names that validation skips when one of its columns is
    invalid (the names are usually fine: a bad type must not hide a bad primary key)."""
    problems: list[tuple[Location, str]] = []
    for index, table in enumerate(_items(data, "tables")):
        if not any(loc[:3] == ("tables", index, "columns") for loc in reported):
            continue
        columns = _raw_column_names(table)
        for name in ("primary_key", "partition_by"):
            values = _get(table, name)
            if isinstance(values, list) and all(isinstance(value, str) for value in values):
                problem = column_list_problem(values, columns)
                if problem:
                    problems.append((("tables", index, name), problem))
        sequence = _get(table, "sequence_column")
        if isinstance(sequence, str):
            problem = sequence_column_problem(sequence, columns)
            if problem:
                problems.append((("tables", index, "sequence_column"), problem))
    return problems


def _problems(
    error: ValidationError, data: object, lines: Mapping[Location, int]
) -> list[ConfigProblem]:
    found: list[tuple[Location, str]] = [
        (tuple(detail["loc"]), _message(detail))
        for detail in error.errors(include_url=False)
        if detail["type"] != _CONFLICT_ERROR
    ]
    reported = {location for location, _ in found}
    found += [
        (location, message)
        for location, message in [
            *_column_reference_problems(data, reported),
            *cross_item_problems(data),
        ]
        if location not in reported
    ]
    return [
        ConfigProblem(format_location(location), message, _line_of(location, lines))
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
    suffix = PurePath(filename).suffix.lower()
    lines: Mapping[Location, int] = {}
    duplicates: list[ConfigProblem] = []
    if suffix in YAML_SUFFIXES:
        data, index = _load_yaml(text, filename)
        lines, duplicates = index.lines, index.duplicates
    elif suffix in JSON_SUFFIXES:
        data = _load_json(text, filename)
    else:
        supported = ", ".join((*YAML_SUFFIXES, *JSON_SUFFIXES))
        raise PipelineConfigError(
            filename, [ConfigProblem("", f"unsupported file type {suffix!r}; use {supported}")]
        )
    if not isinstance(data, Mapping):
        raise PipelineConfigError(
            filename,
            [ConfigProblem("", "must be a mapping with the keys 'batches' and 'tables'")],
        )
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as error:
        problems = duplicates + _problems(error, data, lines)
        raise PipelineConfigError(filename, sorted(problems, key=_line_order)) from None
    if duplicates:
        raise PipelineConfigError(filename, duplicates)
    return config
