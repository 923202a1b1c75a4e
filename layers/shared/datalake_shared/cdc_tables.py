"""CDC tables: which DynamoDB tables' streams iceberg_cdc applies to which Iceberg tables.

The ``cdc_tables`` section of the pipeline config file::

    cdc_tables:
      - source_table: customers            # a DynamoDB table (its stream: NEW_AND_OLD_IMAGES)
        target_table: customers            # an Iceberg table in the stack's lake database
        columns:                           # Glue/Athena types; created from them when missing
          - {name: customer_id, type: string}
          - {name: tags, type: array<string>}
        key_columns: [customer_id]         # the DynamoDB key: hash[, range]
        ttl_deletes: apply                 # apply | ignore (a TTL expiry deletes the row or not)
        unknown_attributes: ignore         # ignore | add (ALTER TABLE ADD COLUMNS)
        active: true                       # false: its stream mapping is removed

``source_table: stack:source`` names the stack's own source stream (the sample table, or
ExistingCdcSourceStreamArn), whose mapping the template declares: ``:`` cannot appear in a
DynamoDB table name, so the alias never collides with one.

Each entry is stored as its JSON in ``CdcTableConfigTable`` (key ``source_table``), one item per
source table: iceberg_cdc reads the entry of each batch's source table (GetItem, cached), and
the config loader's reconciler (cdc_streams) creates one stream mapping per active entry. Like
the merge tables, entries a file does not mention are left as stored: ``active: false`` stops
one.
"""

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, Self

import boto3
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from datalake_contracts import table_config as contract
from datalake_shared.athena_names import UnsafeIdentifierError, ddl_name
from datalake_shared.config_problems import ConfigProblem
from datalake_shared.glue_types import (
    ArrayType,
    ColumnType,
    MapType,
    ScalarType,
    StructType,
    TypeParseError,
    parse_glue_type,
)
from datalake_shared.table_maintenance import TableMaintenance

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

CDC_TABLES: Final = "cdc_tables"
STACK_SOURCE: Final = "stack:source"
"""The stack's own source stream (its mapping is the template's IcebergCdcSourceChanges)."""
# DynamoDB table names: 3 to 255 of these characters.
DYNAMODB_TABLE_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{3,255}")
# Athena creates Iceberg tables with these types only (no tinyint, smallint, varchar, char).
_NOT_ICEBERG: Final = frozenset({"tinyint", "smallint", "varchar", "char"})
_KEY_TYPES: Final = frozenset({"string", "int", "bigint", "decimal", "binary"})
MAX_KEY_COLUMNS: Final = 2
# Struct fields are written bare into CREATE TABLE: plain identifiers only.
_FIELD_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")

SOURCE_TABLE_ATTRIBUTE: Final = "source_table"
ACTIVE_ATTRIBUTE: Final = contract.ITEM_ACTIVE_ATTRIBUTE
CONFIG_ATTRIBUTE: Final = contract.ITEM_CONFIG_ATTRIBUTE
UPDATED_AT_ATTRIBUTE: Final = contract.ITEM_UPDATED_AT_ATTRIBUTE


def _scalars(column_type: ColumnType) -> Iterator[ScalarType]:
    match column_type:
        case ScalarType():
            yield column_type
        case ArrayType():
            yield from _scalars(column_type.element)
        case MapType():
            yield from _scalars(column_type.key)
            yield from _scalars(column_type.value)
        case StructType():
            for member in column_type.fields:
                yield from _scalars(member.type)


def _field_names(column_type: ColumnType) -> Iterator[str]:
    match column_type:
        case ScalarType():
            return
        case ArrayType():
            yield from _field_names(column_type.element)
        case MapType():
            yield from _field_names(column_type.key)
            yield from _field_names(column_type.value)
        case StructType():
            for member in column_type.fields:
                yield member.name
                yield from _field_names(member.type)


def iceberg_column_type(text: str) -> str:
    """A Glue type Athena can create an Iceberg column of, in Glue's canonical spelling."""
    try:
        parsed = parse_glue_type(text)
    except TypeParseError as error:
        raise ValueError(str(error)) from error
    odd = [name for name in _field_names(parsed) if not _FIELD_NAME.fullmatch(name)]
    if odd:
        raise ValueError(f"{text!r}: struct field names must be plain identifiers: {odd}")
    refused = sorted({s.name for s in _scalars(parsed) if s.name in _NOT_ICEBERG})
    if refused:
        raise ValueError(
            f"{text!r}: Iceberg tables have no {', '.join(refused)} type "
            "(use int, bigint or string)"
        )
    return parsed.glue


def plain_name(name: str) -> str:
    """A name Athena DDL takes bare (lowercase, unreserved): tables and columns are created
    with it, and no value is ever quoted into DDL."""
    try:
        return ddl_name(name)
    except UnsafeIdentifierError as error:
        raise ValueError(str(error)) from error


def source_table_name(name: str) -> str:
    if name != STACK_SOURCE and not DYNAMODB_TABLE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -) "
            f"nor {STACK_SOURCE!r} (the stack's own source stream)"
        )
    return name


PlainName = Annotated[str, AfterValidator(plain_name)]


class _Model(BaseModel):
    # As the rest of the pipeline config: a file says what it means, an unknown key is a typo.
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")


class CdcColumn(_Model):
    name: PlainName
    type: Annotated[str, AfterValidator(iceberg_column_type)]


class CdcTableConfig(_Model):
    """One DynamoDB table applied to one Iceberg table of the stack's lake database."""

    source_table: Annotated[str, AfterValidator(source_table_name)]
    target_table: PlainName
    columns: list[CdcColumn] = Field(min_length=1)
    key_columns: list[str] = Field(min_length=1, max_length=MAX_KEY_COLUMNS)
    ttl_deletes: Literal["apply", "ignore"] = "apply"
    unknown_attributes: Literal["ignore", "add"] = "ignore"
    active: bool = True
    # Snapshot retention and compaction of the target table (the nightly maintenance run).
    maintenance: TableMaintenance = Field(default_factory=TableMaintenance)

    @property
    def column_types(self) -> dict[str, str]:
        return {column.name: column.type for column in self.columns}

    @model_validator(mode="after")
    def _keys_are_scalar_columns(self) -> Self:
        names = [column.name for column in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(
                f"duplicate column names: {sorted(n for n in set(names) if names.count(n) > 1)}"
            )
        if len(set(self.key_columns)) != len(self.key_columns):
            raise ValueError("key_columns names a column twice")
        types = self.column_types
        for key in self.key_columns:
            if key not in types:
                raise ValueError(f"key column {key!r} is not one of the columns")
            parsed = parse_glue_type(types[key])
            if not isinstance(parsed, ScalarType) or parsed.name not in _KEY_TYPES:
                raise ValueError(
                    f"key column {key!r} is {types[key]}: a DynamoDB key (S, N or B) needs "
                    "string, int, bigint, decimal or binary"
                )
        return self


def _distinct(tables: list[CdcTableConfig]) -> list[CdcTableConfig]:
    for field in ("source_table", "target_table"):
        values = [getattr(table, field) for table in tables]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"{field} repeated: {repeated} (one entry per table)")
    return tables


CdcTables = Annotated[list[CdcTableConfig], AfterValidator(_distinct)]
"""The PipelineConfig field ``cdc_tables``."""


# ------------------------------------------------------------------------------ source pattern


def iam_pattern(pattern: str) -> re.Pattern[str]:
    """An IAM resource wildcard (``*`` any run of characters, ``?`` one) as a regex."""
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts))


def sources_outside(tables: Sequence[CdcTableConfig], pattern: str) -> list[ConfigProblem]:
    """Entries whose source table the stack's iceberg_cdc may not read: its IAM policy reads
    the streams of tables matching CdcSourceTablePattern. Caught at upload, not at the first
    batch (as ``unwritable_targets`` does for merge databases)."""
    matcher = iam_pattern(pattern)
    return [
        ConfigProblem(
            f"{CDC_TABLES}[{index}].source_table",
            f"{table.source_table!r} does not match this stack's CdcSourceTablePattern "
            f"({pattern!r}): iceberg_cdc may not read its stream; rename within it, or change "
            "the parameter and redeploy",
        )
        for index, table in enumerate(tables)
        if table.source_table != STACK_SOURCE and not matcher.fullmatch(table.source_table)
    ]


# ------------------------------------------------------------------------------ storage


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CdcTableStoreError(RuntimeError):
    """A stored item is not a valid CdcTableConfig."""


class CdcTableStore:
    """CdcTableConfigTable: ``{source_table, active, config: <CdcTableConfig JSON>, updated_at}``.

    The client is built on first use (importing needs no AWS)."""

    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
        now: Callable[[], str] = _now_iso,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._now = now

    @cached_property
    def client(self) -> "DynamoDBClient":
        return self._client or boto3.client("dynamodb")

    def put_all(self, tables: Sequence[CdcTableConfig]) -> None:
        """Whole-item Puts: repeating them is harmless."""
        updated_at = self._now()
        for table in tables:
            item: dict[str, AttributeValueTypeDef] = {
                SOURCE_TABLE_ATTRIBUTE: {"S": table.source_table},
                ACTIVE_ATTRIBUTE: {"BOOL": table.active},
                CONFIG_ATTRIBUTE: {"S": table.model_dump_json()},
                UPDATED_AT_ATTRIBUTE: {"S": updated_at},
            }
            self.client.put_item(TableName=self.table_name, Item=item)

    def load(self, source_table: str) -> CdcTableConfig | None:
        response = self.client.get_item(
            TableName=self.table_name, Key={SOURCE_TABLE_ATTRIBUTE: {"S": source_table}}
        )
        item = response.get("Item")
        return None if item is None else self._parse(item)

    def load_all(self) -> list[CdcTableConfig]:
        """Every stored entry (a Scan: one item per CDC table, read when a config is applied)."""
        tables: list[CdcTableConfig] = []
        for page in self.client.get_paginator("scan").paginate(
            TableName=self.table_name, ConsistentRead=True
        ):
            tables.extend(self._parse(item) for item in page.get("Items", []))
        return sorted(tables, key=lambda table: table.source_table)

    def _parse(self, item: dict[str, Any]) -> CdcTableConfig:
        try:
            return CdcTableConfig.model_validate_json(item[CONFIG_ATTRIBUTE]["S"])
        except (KeyError, ValidationError) as error:
            where = item.get(SOURCE_TABLE_ATTRIBUTE, {}).get("S")
            raise CdcTableStoreError(
                f"{self.table_name}[{where}] is not a valid CdcTableConfig: {error}"
            ) from error
