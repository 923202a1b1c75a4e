"""Workbook tables: Athena tables over the CSVs excel_cleaner writes, one per clean-bucket folder.

The ``workbook_tables`` section of the pipeline config file::

    workbook_tables:
      - name: budget                     # Glue table workbook_budget, in the stack's database
        prefix: incoming/finance/        # the clean-bucket folder whose workbooks it reads
        columns:                         # the CSV's columns in order, as the cleaner names them
          - {name: cost_centre, type: string}
          - {name: budget, type: integer}

A workbook uploaded as ``incoming/finance/budget.xlsx`` is cleaned to
``incoming/finance/budget/<sheet>.csv`` (one CSV per sheet) beside ``_manifest.json``. The
table's location is its prefix: Athena reads every CSV under it, in sub-folders too, and skips
the manifests (names starting with ``_`` are hidden to it). CSV columns are read by position,
so every CSV under a prefix must have the table's columns in the table's order: the prefix
receives workbooks of one layout, each cleaned to exactly one CSV (a cleaning spec for the
prefix naming its ``sheet``). Prefixes are therefore never nested: the outer table would read
the inner one's CSVs too.

Types are the cleaning spec's (``workbook_csv.WorkbookColumnType``) and map to Athena's:
integer → bigint, number → double, boolean → boolean, and string, date and datetime → string.
Dates stay text because the table reads CSV with OpenCSVSerDe, which takes a DATE only as a
count of days since 1970 and a TIMESTAMP only as milliseconds: query them with
``CAST(NULLIF(col, '') AS date)`` and ``CAST(from_iso8601_timestamp(NULLIF(col, '')) AS
timestamp)`` (each such column's comment in the catalog says so). An empty field of a typed
column reads as NULL (``use.null.for.invalid.data``): the cleaner writes a missing or
unconvertible value empty, and OpenCSVSerDe would otherwise fail the query on it.

Column names are at most 128 characters (``MAX_COLUMN_NAME``): each column is an input column of
the table's QuickSight dataset, whose names QuickSight limits so (Glue allows 255); a longer
header is renamed by the cleaning spec (``renames``).

Absent, the file leaves the tables as they are (as a file leaves the merge tables it does not
mention); present, even empty, it is the whole list: a table no longer listed is deleted (its
CSVs stay). The tables are made by the config loader (``workbook_catalog``), which owns only
the Glue tables carrying ``OWNER_PARAMETER`` with its stack's name. With QuickSight on, a table
also carries ``DATASET_PARAMETER`` naming its SPICE dataset once that dataset exists: the SPICE
ingestion flow refreshes only datasets so marked (``spice_target.workbook_datasets``).
"""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Final, Self

import boto3
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from datalake_shared.athena_names import quote_identifier
from datalake_shared.glue_types import TABLE_INPUT_KEYS
from datalake_shared.s3_keys import check_prefix
from datalake_shared.settings import EnvSettings
from datalake_shared.workbook_csv import COLUMN_NAME, WorkbookColumnType

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

WORKBOOK_TABLES: Final = "workbook_tables"
GLUE_NAME_PREFIX: Final = "workbook_"
DATASET_ID_INFIX: Final = "-workbook-"
OWNER_PARAMETER: Final = "datalake_events.workbook_table_of"
"""Glue table parameter naming the stack whose config loader made the table."""
DATASET_PARAMETER: Final = "datalake_events.workbook_dataset"
"""Glue table parameter naming the table's QuickSight dataset, set only once it exists."""
TABLE_NAME_PATTERN: Final = r"^[a-z][a-z0-9_]{0,62}$"
MAX_COLUMNS: Final = 1000
# QuickSight's InputColumn.Name (botocore's model): every column is one of the dataset's.
MAX_COLUMN_NAME: Final = 128
_PREFIX_SEGMENT: Final = r"[A-Za-z0-9][A-Za-z0-9_.=-]*"
PREFIX_PATTERN: Final = rf"^({_PREFIX_SEGMENT}/)+$"

GLUE_TYPES: Final[Mapping[WorkbookColumnType, str]] = {
    WorkbookColumnType.STRING: "string",
    WorkbookColumnType.INTEGER: "bigint",
    WorkbookColumnType.NUMBER: "double",
    WorkbookColumnType.BOOLEAN: "boolean",
    # OpenCSVSerDe reads DATE and TIMESTAMP as UNIX numbers only: these stay ISO 8601 text.
    WorkbookColumnType.DATE: "string",
    WorkbookColumnType.DATETIME: "string",
}
# How a date or date-time column reads as one on Athena ({column}: the column, quoted or not);
# an empty field (no value) is NULL. The catalog's column comments and the datasets' queries.
TYPED_SQL: Final[Mapping[WorkbookColumnType, str]] = {
    WorkbookColumnType.DATE: "CAST(NULLIF({column}, '') AS date)",
    WorkbookColumnType.DATETIME: "CAST(from_iso8601_timestamp(NULLIF({column}, '')) AS timestamp)",
}
_WRITTEN_AS: Final[Mapping[WorkbookColumnType, str]] = {
    WorkbookColumnType.DATE: "date as YYYY-MM-DD text",
    WorkbookColumnType.DATETIME: "date-time as YYYY-MM-DDTHH:MM:SS[.fff] text",
}

# How the cleaner writes CSV (workbook_csv): comma-separated, quoted with " when needed, a
# header row. OpenCSVSerDe reads a doubled quote inside quotes as one, but keeps its default
# escapeChar, the backslash (a value's backslash escapes the character after it, and is lost),
# and cannot read a line break inside a field (the row is split): both are said in the docs.
SERDE: Final = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
SERDE_PARAMETERS: Final[Mapping[str, str]] = {"separatorChar": ",", "quoteChar": '"'}
INPUT_FORMAT: Final = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT: Final = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
TABLE_PARAMETERS: Final[Mapping[str, str]] = {
    "classification": "csv",
    "skip.header.line.count": "1",
    # An empty field of a bigint, double or boolean column is NULL, not a failed query.
    "use.null.for.invalid.data": "true",
}


class _Model(BaseModel):
    # As the rest of the pipeline config: a file says what it means, an unknown key is a typo.
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


def _prefix(value: str) -> str:
    if not re.fullmatch(PREFIX_PATTERN, value):
        raise ValueError(
            "must be a clean-bucket folder such as incoming/sales/: folder names of letters, "
            "digits, _ . = and -, not starting with _ or . (Athena skips those), each ending "
            "with /"
        )
    return check_prefix(value)


class WorkbookColumn(_Model):
    name: Annotated[str, Field(pattern=COLUMN_NAME.pattern, max_length=MAX_COLUMN_NAME)]
    type: Annotated[WorkbookColumnType, Field(strict=False)]

    @property
    def glue_type(self) -> str:
        return GLUE_TYPES[self.type]

    @property
    def comment(self) -> str:
        """How to read the column (dates and date-times), or its type: with the longest name,
        within Glue's 255 characters for a comment."""
        typed = TYPED_SQL.get(self.type)
        if typed is None:
            return self.type.value
        return f"{_WRITTEN_AS[self.type]}: {typed.format(column=quote_identifier(self.name))}"


class WorkbookTable(_Model):
    """One Athena table over the CSVs of the workbooks cleaned under ``prefix``."""

    name: Annotated[str, Field(pattern=TABLE_NAME_PATTERN)]
    prefix: Annotated[str, AfterValidator(_prefix)]
    columns: list[WorkbookColumn] = Field(min_length=1, max_length=MAX_COLUMNS)

    @property
    def glue_name(self) -> str:
        return glue_table_name(self.name)

    @model_validator(mode="after")
    def _columns_are_distinct(self) -> Self:
        names = [column.name for column in self.columns]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"columns listed twice: {repeated}")
        return self


def _distinct(tables: list[WorkbookTable]) -> list[WorkbookTable]:
    for field in ("name", "prefix"):
        values = [getattr(table, field) for table in tables]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"{field} repeated: {repeated} (one table per {field})")
    nested = sorted(
        f"{inner.prefix} is inside {outer.prefix}"
        for outer in tables
        for inner in tables
        if inner is not outer and inner.prefix.startswith(outer.prefix)
    )
    if nested:
        raise ValueError(
            f"nested prefixes ({'; '.join(nested)}): the outer table would read the inner "
            "one's CSVs as well"
        )
    return tables


WorkbookTables = Annotated[list[WorkbookTable], Field(max_length=200), AfterValidator(_distinct)]
"""The config's ``workbook_tables``: absent, the file leaves the tables as they are; present
(even empty), it is the whole list."""


# ------------------------------------------------------------------------------ names


def glue_table_name(name: str) -> str:
    return f"{GLUE_NAME_PREFIX}{name}"


def dataset_id(owner: str, name: str) -> str:
    """The QuickSight dataset of a workbook table: ``<stack>-workbook-<name, dashed>``."""
    return f"{owner}{DATASET_ID_INFIX}{name.replace('_', '-')}"


def location(bucket: str, prefix: str) -> str:
    return f"s3://{bucket}/{prefix}"


# ------------------------------------------------------------------------------ Glue layout


def table_input(
    table: WorkbookTable, bucket: str, owner: str, dataset: str | None = None
) -> dict[str, Any]:
    """The Glue TableInput of ``table`` (CreateTable, UpdateTable) for the stack ``owner``,
    marked with its ``dataset`` once that exists."""
    marked = {DATASET_PARAMETER: dataset} if dataset else {}
    return {
        "Name": table.glue_name,
        "Description": (
            f"Workbooks cleaned under {location(bucket, table.prefix)} (pipeline config "
            f"{WORKBOOK_TABLES}: {table.name}); one CSV per workbook, read by position."
        ),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {**TABLE_PARAMETERS, OWNER_PARAMETER: owner, **marked},
        "StorageDescriptor": {
            "Columns": [
                {"Name": column.name, "Type": column.glue_type, "Comment": column.comment}
                for column in table.columns
            ],
            "Location": location(bucket, table.prefix),
            "InputFormat": INPUT_FORMAT,
            "OutputFormat": OUTPUT_FORMAT,
            "SerdeInfo": {"SerializationLibrary": SERDE, "Parameters": dict(SERDE_PARAMETERS)},
        },
    }


def _storage(table: Mapping[str, Any]) -> Mapping[str, Any]:
    storage: Mapping[str, Any] = table.get("StorageDescriptor") or {}
    return storage


def projected(described: Any, wanted: Any) -> Any:
    """``described`` (as AWS reads it back) cut to the fields ``wanted`` (a request) sets: keys
    of objects it does not set are left out, lists compared item by item (at any depth)."""
    if isinstance(wanted, Mapping) and isinstance(described, Mapping):
        return {
            key: projected(described[key], value)
            for key, value in wanted.items()
            if key in described
        }
    if isinstance(wanted, list) and isinstance(described, list) and len(wanted) == len(described):
        return [projected(item, want) for item, want in zip(described, wanted, strict=True)]
    return described


def differs(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether the Glue table read (GetTable) must be updated to be ``wanted``: only what
    ``table_input`` sets is compared (Glue adds fields of its own), but the SerDe's parameters
    whole, and partition keys (never set) make it differ."""
    serde = (_storage(current).get("SerdeInfo") or {}).get("Parameters") or {}
    return (
        projected(current, wanted) != wanted
        or bool(current.get("PartitionKeys"))
        or serde != wanted["StorageDescriptor"]["SerdeInfo"]["Parameters"]
    )


@dataclass(frozen=True, slots=True)
class OwnedTable:
    """A workbook table as the catalog holds it: its config name, clean-bucket prefix and, once
    made, its QuickSight dataset."""

    name: str
    glue_name: str
    prefix: str
    dataset_id: str | None = None


def owned_table(table: Mapping[str, Any], owner: str) -> OwnedTable | None:
    """The workbook table ``owner``'s config loader made, or None for any other Glue table."""
    glue_name = str(table.get("Name", ""))
    parameters = table.get("Parameters") or {}
    if parameters.get(OWNER_PARAMETER) != owner or not glue_name.startswith(GLUE_NAME_PREFIX):
        return None
    uri = str(_storage(table).get("Location", ""))
    _, _, prefix = uri.removeprefix("s3://").partition("/")
    dataset = parameters.get(DATASET_PARAMETER) or None
    return OwnedTable(glue_name.removeprefix(GLUE_NAME_PREFIX), glue_name, prefix, dataset)


# ------------------------------------------------------------------------------ the catalog


class WorkbookTableSite(EnvSettings):
    """Where a stack's workbook tables are (mixin of the settings of the functions that read
    or make them). Empty ``WORKBOOK_TABLE_DATABASE``: the stack has none."""

    workbook_table_database: str = Field(default="", alias="WORKBOOK_TABLE_DATABASE")
    # The stack's name: marks the tables it owns, and starts its dataset ids.
    workbook_table_owner: str = Field(default="", alias="WORKBOOK_TABLE_OWNER")

    def workbook_glue_tables(self, client: "GlueClient | None" = None) -> "GlueWorkbookTables":
        return GlueWorkbookTables(self.workbook_table_database, self.workbook_table_owner, client)


class GlueWorkbookTables:
    """The workbook tables of one Glue database (the boto3 client is made on first use)."""

    def __init__(self, database: str, owner: str, client: "GlueClient | None" = None) -> None:
        self.database = database
        self.owner = owner
        self._client = client

    @cached_property
    def client(self) -> "GlueClient":
        return self._client or boto3.client("glue")

    def tables(self) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("get_tables")
        for page in paginator.paginate(DatabaseName=self.database):
            for table in page.get("TableList", []):
                yield dict(table)

    def owned(self) -> dict[str, tuple[OwnedTable, dict[str, Any]]]:
        """This stack's workbook tables by Glue name, each as read."""
        return self.read()[0]

    def read(self) -> tuple[dict[str, tuple[OwnedTable, dict[str, Any]]], set[str]]:
        """One listing of the database: this stack's workbook tables by Glue name (each as
        read), and the names of every other table."""
        owned: dict[str, tuple[OwnedTable, dict[str, Any]]] = {}
        others: set[str] = set()
        for table in self.tables():
            mine = owned_table(table, self.owner)
            if mine is None:
                others.add(str(table.get("Name", "")))
            else:
                owned[mine.glue_name] = (mine, table)
        return owned, others

    def create(self, wanted: dict[str, Any]) -> None:
        self.client.create_table(DatabaseName=self.database, TableInput=wanted)  # type: ignore[arg-type]

    def update(self, wanted: dict[str, Any]) -> None:
        self.client.update_table(DatabaseName=self.database, TableInput=wanted)  # type: ignore[arg-type]

    def unmark(self, table: Mapping[str, Any]) -> None:
        """Updates ``table`` (as read) without ``DATASET_PARAMETER``: its dataset is deleted.
        A table already gone is not an error."""
        wanted = {key: table[key] for key in TABLE_INPUT_KEYS if key in table}
        parameters = dict(table.get("Parameters") or {})
        parameters.pop(DATASET_PARAMETER, None)
        try:
            self.update({**wanted, "Parameters": parameters})
        except self.client.exceptions.EntityNotFoundException:
            return

    def delete(self, glue_name: str) -> None:
        """Deletes the table; one already gone is not an error."""
        try:
            self.client.delete_table(DatabaseName=self.database, Name=glue_name)
        except self.client.exceptions.EntityNotFoundException:
            return
