"""The target table's columns, read from the Glue Data Catalog (glue:GetTable) and cached.

The cache lives as long as the Lambda container and each entry for ``ttl_seconds``
(SCHEMA_CACHE_SECONDS): a batch normally costs no Glue call at all. Adding columns (or a
statement that fails) invalidates the entry so the next read sees the new schema.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from iceberg_cdc.column_types import TypeParseError, parse_glue_type
from iceberg_cdc.sql import Column

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

# Athena keeps a dropped Iceberg column in Glue with this parameter set to "false".
ICEBERG_CURRENT_FIELD: Final = "iceberg.field.current"


class CatalogError(RuntimeError):
    """The table cannot be read from the catalog, or is not an Iceberg table."""


class TableMissingError(CatalogError):
    """The catalog has no such table (glue:GetTable EntityNotFoundException)."""


@dataclass(frozen=True, slots=True)
class SkippedColumn:
    name: str
    glue_type: str
    reason: str


@dataclass(frozen=True, slots=True)
class TableSchema:
    database: str
    table: str
    columns: tuple[Column, ...]
    skipped: tuple[SkippedColumn, ...] = ()
    """Columns of a type this function cannot write: left out of every statement."""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)
    _by_lower: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {column.name: column for column in self.columns})
        object.__setattr__(
            self, "_by_lower", {column.name.lower(): column for column in reversed(self.columns)}
        )

    def column_for(self, attribute: str) -> Column | None:
        """The column an attribute lands in: same name, else same name ignoring case (Glue
        lowercases column names; DynamoDB attribute names keep theirs)."""
        return self._by_name.get(attribute) or self._by_lower.get(attribute.lower())

    def has_column(self, name: str) -> bool:
        return name.lower() in self._by_lower or any(
            skipped.name.lower() == name.lower() for skipped in self.skipped
        )


def schema_from_glue_table(database: str, table: str, glue_table: Mapping[str, Any]) -> TableSchema:
    """A TableSchema from a GetTable ``Table``; raises CatalogError unless it is Iceberg."""
    parameters = glue_table.get("Parameters") or {}
    if str(parameters.get("table_type", "")).upper() != "ICEBERG":
        raise CatalogError(
            f"{database}.{table} is not an Iceberg table (Parameters.table_type="
            f"{parameters.get('table_type')!r}); Athena can MERGE only into Iceberg tables"
        )
    raw_columns: Sequence[Mapping[str, Any]] = [
        *(glue_table.get("StorageDescriptor") or {}).get("Columns", []),
        *glue_table.get("PartitionKeys", []),
    ]
    columns: list[Column] = []
    skipped: list[SkippedColumn] = []
    seen: set[str] = set()
    for raw in raw_columns:
        name, glue_type = str(raw.get("Name", "")), str(raw.get("Type", ""))
        if not name or name.lower() in seen:
            continue
        if (raw.get("Parameters") or {}).get(ICEBERG_CURRENT_FIELD) == "false":
            continue  # dropped from the Iceberg schema; Glue keeps it for history
        seen.add(name.lower())
        try:
            columns.append(Column(name, parse_glue_type(glue_type)))
        except TypeParseError as error:
            skipped.append(SkippedColumn(name, glue_type, str(error)))
    if not columns:
        raise CatalogError(f"{database}.{table} has no columns in the catalog")
    return TableSchema(database, table, tuple(columns), tuple(skipped))


class GlueSchemaCatalog:
    """Reads table schemas with glue:GetTable; one cached entry per table for ``ttl_seconds``."""

    def __init__(
        self,
        ttl_seconds: float = 300.0,
        client: "GlueClient | None" = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._client = client
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, TableSchema]] = {}
        self.reads = 0
        """GetTable calls made (the cache's effect shows in tests and benchmarks)."""

    @cached_property
    def client(self) -> "GlueClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("glue")

    def table_schema(self, database: str, table: str) -> TableSchema:
        cached = self._cache.get((database, table))
        now = self._clock()
        if cached is not None and cached[0] > now:
            return cached[1]
        schema = self._read(database, table)
        self._cache[(database, table)] = (now + self.ttl_seconds, schema)
        return schema

    def invalidate(self, database: str, table: str) -> None:
        self._cache.pop((database, table), None)

    def _read(self, database: str, table: str) -> TableSchema:
        self.reads += 1
        try:
            response = self.client.get_table(DatabaseName=database, Name=table)
        except ClientError as error:
            missing = error.response.get("Error", {}).get("Code") == "EntityNotFoundException"
            kind = TableMissingError if missing else CatalogError
            raise kind(f"glue:GetTable {database}.{table} failed: {error}") from error
        except BotoCoreError as error:
            raise CatalogError(f"glue:GetTable {database}.{table} failed: {error}") from error
        return schema_from_glue_table(database, table, response["Table"])
