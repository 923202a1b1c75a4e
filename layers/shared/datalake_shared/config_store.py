"""DynamoDB adapter for the pipeline configuration (BatchConfigTable and TableConfigTable).

Items hold the model as JSON, so readers get exactly what was validated::

    BatchConfigTable  {cadence, config: <BatchConfig JSON>, updated_at}
    TableConfigTable  {cadence, source_table, active, config: <TableConfig JSON>, updated_at}

``apply`` writes a validated ``PipelineConfig``: parse first, so an invalid file writes
nothing; an item DynamoDB would refuse (over 400 KB) rejects the whole config before the first
write, too. It is safe to repeat (every write is a whole-item Put). What a file does not mention is
left as it is — remove a table by setting ``active: false`` — with one exception: a table the
file puts under another cadence than the stored one has its old item deactivated, so a table
is never merged by two cadences.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
from pydantic import ValidationError

from datalake_contracts import table_config as contract
from datalake_shared.config_problems import ConfigProblem, PipelineConfigError
from datalake_shared.pipeline_config import (
    MAX_ITEM_BYTES,
    BatchConfig,
    PipelineConfig,
    TableConfig,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        QueryInputPaginateTypeDef,
        TransactWriteItemTypeDef,
    )

CADENCE: Final = contract.ITEM_PARTITION_KEY
SOURCE_TABLE: Final = contract.ITEM_SORT_KEY
ACTIVE: Final = contract.ITEM_ACTIVE_ATTRIBUTE
CONFIG: Final = contract.ITEM_CONFIG_ATTRIBUTE
UPDATED_AT: Final = contract.ITEM_UPDATED_AT_ATTRIBUTE
# TransactWriteItems takes at most 100 actions and 4 MB; stay clear of the byte limit.
MAX_ITEMS_PER_TRANSACTION: Final = 100
MAX_BYTES_PER_TRANSACTION: Final = 3_500_000
_MAX_NUMBER_BYTES: Final = 21
_CONTAINER_BYTES: Final = 3


def item_bytes(item: Mapping[str, Any]) -> int:
    """An item's size as DynamoDB counts it against the 400 KB limit: each attribute's name
    (UTF-8) plus its value. Numbers are counted at their largest (21 bytes), so this never
    understates."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one return per type
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "B":
        return len(data)
    if kind == "N":
        return _MAX_NUMBER_BYTES
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in data)
    if kind == "NS":
        return _MAX_NUMBER_BYTES * len(data)
    if kind == "BS":
        return sum(len(member) for member in data)
    if kind == "L":
        return _CONTAINER_BYTES + sum(1 + _value_bytes(member) for member in data)
    # M: a name per member too
    return _CONTAINER_BYTES + sum(
        1 + len(name.encode()) + _value_bytes(member) for name, member in data.items()
    )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(model: BatchConfig | TableConfig) -> str:
    return model.model_dump_json()


@dataclass(frozen=True, slots=True)
class StoredTable:
    """A table config item as stored, for comparing the store with a file."""

    cadence: str
    source_table: str
    active: bool


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """What ``apply`` writes (or, from ``plan``, would write)."""

    batches: tuple[BatchConfig, ...]
    tables: tuple[TableConfig, ...]
    deactivated: tuple[TableConfig, ...] = ()
    """Stored items of tables the file moves to another cadence, now ``active: false``."""
    untouched: tuple[StoredTable, ...] = ()
    """Stored tables the file does not mention: left as they are."""
    transactions: int = 0
    """TransactWriteItems calls made (0 for a plan)."""

    def summary(self) -> dict[str, int]:
        return {
            "batches": len(self.batches),
            "tables": len(self.tables),
            "active_tables": sum(table.active for table in self.tables),
            "deactivated": len(self.deactivated),
            "untouched": len(self.untouched),
            "transactions": self.transactions,
        }


@dataclass
class _Chunk:
    actions: list["TransactWriteItemTypeDef"] = field(default_factory=list)
    size: int = 0


def _chunks(
    actions: Sequence[tuple["TransactWriteItemTypeDef", int]],
) -> Iterator[list["TransactWriteItemTypeDef"]]:
    """Transactions of at most 100 actions and ~3.5 MB, in the given order."""
    chunk = _Chunk()
    for action, size in actions:
        full = len(chunk.actions) == MAX_ITEMS_PER_TRANSACTION
        if chunk.actions and (full or chunk.size + size > MAX_BYTES_PER_TRANSACTION):
            yield chunk.actions
            chunk = _Chunk()
        chunk.actions.append(action)
        chunk.size += size
    if chunk.actions:
        yield chunk.actions


class PipelineConfigStore:
    """Reads and writes the pipeline configuration; the client is built on first use."""

    def __init__(
        self,
        batch_table: str,
        table_table: str,
        client: "DynamoDBClient | None" = None,
        now: Callable[[], str] = _now_iso,
        page_size: int | None = None,
    ) -> None:
        self.batch_table = batch_table
        self.table_table = table_table
        self._client = client
        self._now = now
        self._page_size = page_size

    @cached_property
    def client(self) -> "DynamoDBClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("dynamodb")

    # ------------------------------------------------------------------ items

    @staticmethod
    def batch_item(batch: BatchConfig, updated_at: str) -> dict[str, "AttributeValueTypeDef"]:
        return {
            CADENCE: {"S": batch.cadence},
            CONFIG: {"S": _json(batch)},
            UPDATED_AT: {"S": updated_at},
        }

    @staticmethod
    def table_item(table: TableConfig, updated_at: str) -> dict[str, "AttributeValueTypeDef"]:
        return {
            CADENCE: {"S": table.cadence},
            SOURCE_TABLE: {"S": table.source_table},
            ACTIVE: {"BOOL": table.active},
            CONFIG: {"S": _json(table)},
            UPDATED_AT: {"S": updated_at},
        }

    def _parse[Model: (BatchConfig, TableConfig)](
        self, model: type[Model], item: dict[str, Any], where: str
    ) -> Model:
        try:
            return model.model_validate_json(item[CONFIG]["S"])
        except (KeyError, ValidationError) as error:
            raise PipelineConfigError(
                where, [ConfigProblem(CONFIG, f"stored item is not a valid {model.__name__}")]
            ) from error

    # ------------------------------------------------------------------ reads

    def load_batch_config(self, cadence: str) -> BatchConfig | None:
        response = self.client.get_item(
            TableName=self.batch_table, Key={CADENCE: {"S": cadence}}, ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        return self._parse(BatchConfig, item, f"{self.batch_table}[{cadence}]")

    def load_batch_configs(self) -> list[BatchConfig]:
        """Every stored batch config (one per cadence, a few dozen at most: a Scan), by cadence."""
        paginate: dict[str, Any] = {"TableName": self.batch_table, "ConsistentRead": True}
        if self._page_size is not None:
            paginate["PaginationConfig"] = {"PageSize": self._page_size}
        batches = [
            self._parse(BatchConfig, item, f"{self.batch_table}[{item[CADENCE]['S']}]")
            for page in self.client.get_paginator("scan").paginate(**paginate)
            for item in page.get("Items", [])
        ]
        return sorted(batches, key=lambda batch: batch.cadence)

    def load_table_configs(self, cadence: str, *, active_only: bool = False) -> list[TableConfig]:
        """The cadence's tables sorted by source_table (the sort key), every page of them."""
        names = {"#cadence": CADENCE}
        values: dict[str, AttributeValueTypeDef] = {":cadence": {"S": cadence}}
        request: QueryInputPaginateTypeDef = {
            "TableName": self.table_table,
            "KeyConditionExpression": "#cadence = :cadence",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if active_only:
            request["FilterExpression"] = "#active = :true"
            names["#active"] = ACTIVE
            values[":true"] = {"BOOL": True}
        if self._page_size is not None:
            request["PaginationConfig"] = {"PageSize": self._page_size}
        tables: list[TableConfig] = []
        for page in self.client.get_paginator("query").paginate(**request):
            for item in page.get("Items", []):
                where = f"{self.table_table}[{cadence}, {item[SOURCE_TABLE]['S']}]"
                tables.append(self._parse(TableConfig, item, where))
        return tables

    def load_all_table_configs(self) -> list[TableConfig]:
        """Every cadence's tables, active or not (the Scan of ``_stored_tables``; the nightly
        maintenance planner reads them all once)."""
        return [
            self._parse(TableConfig, item, f"{self.table_table}[{key.cadence}, {key.source_table}]")
            for key, item in self._stored_tables()
        ]

    def _stored_tables(self) -> list[tuple[StoredTable, dict[str, Any]]]:
        """Every table config item. A Scan, on purpose: the table holds one item per configured
        table (hundreds at most) and is read this way only when a file is applied."""
        stored: list[tuple[StoredTable, dict[str, Any]]] = []
        paginate: dict[str, Any] = {"TableName": self.table_table, "ConsistentRead": True}
        if self._page_size is not None:
            paginate["PaginationConfig"] = {"PageSize": self._page_size}
        for page in self.client.get_paginator("scan").paginate(**paginate):
            for item in page.get("Items", []):
                key = StoredTable(
                    cadence=item[CADENCE]["S"],
                    source_table=item[SOURCE_TABLE]["S"],
                    active=item.get(ACTIVE, {}).get("BOOL", True),
                )
                stored.append((key, item))
        return stored

    # ------------------------------------------------------------------ writes

    def plan(self, config: PipelineConfig) -> ApplyPlan:
        """What ``apply`` would write, after reading what is stored."""
        in_file = {(table.cadence, table.source_table) for table in config.tables}
        cadence_of = {table.source_table: table.cadence for table in config.tables}
        deactivated: list[TableConfig] = []
        untouched: list[StoredTable] = []
        for stored, item in self._stored_tables():
            if (stored.cadence, stored.source_table) in in_file:
                continue
            if stored.source_table in cadence_of:
                if stored.active:
                    where = f"{self.table_table}[{stored.cadence}, {stored.source_table}]"
                    old = self._parse(TableConfig, item, where)
                    deactivated.append(old.model_copy(update={"active": False}))
            else:
                untouched.append(stored)
        return ApplyPlan(
            batches=tuple(config.batches),
            tables=tuple(config.tables),
            deactivated=tuple(deactivated),
            untouched=tuple(sorted(untouched, key=lambda t: (t.cadence, t.source_table))),
        )

    def apply(self, config: PipelineConfig) -> ApplyPlan:
        """Writes the whole configuration, in transactions of up to 100 items.

        Batch configs go first, so a table item never names a cadence without its batch config.
        Each transaction is all or nothing; if a later one fails, the error is raised with the
        earlier ones written: apply again (every write is a whole-item Put, so repeating one is
        harmless).
        """
        plan = self.plan(config)
        updated_at = self._now()
        items: list[tuple[str, str, dict[str, AttributeValueTypeDef]]] = [
            *(
                (f"batches[{n}]", self.batch_table, self.batch_item(batch, updated_at))
                for n, batch in enumerate(plan.batches)
            ),
            *(
                (f"tables[{n}]", self.table_table, self.table_item(table, updated_at))
                for n, table in enumerate(plan.tables)
            ),
            *(
                (
                    f"{self.table_table}[{old.cadence}, {old.source_table}]",
                    self.table_table,
                    self.table_item(old, updated_at),
                )
                for old in plan.deactivated
            ),
        ]
        sizes = [item_bytes(item) for _, _, item in items]
        # Checked before the first transaction: a later one refused would leave the config half
        # applied.
        too_large = [
            ConfigProblem(
                where,
                f"would be a DynamoDB item of {size:,} bytes, over DynamoDB's 400 KB "
                f"({MAX_ITEM_BYTES:,} bytes) item limit",
            )
            for (where, _, _), size in zip(items, sizes, strict=True)
            if size > MAX_ITEM_BYTES
        ]
        if too_large:
            raise PipelineConfigError("pipeline config", too_large)
        actions: list[tuple[TransactWriteItemTypeDef, int]] = [
            ({"Put": {"TableName": table, "Item": item}}, size)
            for (_, table, item), size in zip(items, sizes, strict=True)
        ]
        transactions = 0
        for chunk in _chunks(actions):
            self.client.transact_write_items(TransactItems=chunk)
            transactions += 1
        return replace(plan, transactions=transactions)
