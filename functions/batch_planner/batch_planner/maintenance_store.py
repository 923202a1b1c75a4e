"""Where the maintenance planner reads from: the tables the stack writes, and when each was
last maintained.

- ``ConfiguredTables``: the active merged tables of every cadence (TableConfigTable, one Scan),
  and the active CDC tables (CdcTableConfigTable, in the lake database) when the stack has one.
  (The template's own Iceberg tables come with the request, from the state machine's
  definition.)
- ``GlueTableCatalog``: which of them exist yet (Glue GetTables per database).
- ``DynamoMaintenanceLog``: TableMaintenanceTable, one item per table, which the state machine
  writes after a table's VACUUM succeeded (layout: datalake_shared.table_maintenance).

Clients are built on first use, never at import.
"""

from collections.abc import Collection, Mapping
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3

from batch_planner.maintenance_plan import MaintainedTable
from datalake_shared.cdc_tables import CdcTableStore
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.observability import logger
from datalake_shared.table_maintenance import LOG_KEY_ATTRIBUTE, LOG_TIME_ATTRIBUTE, table_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef
    from mypy_boto3_glue import GlueClient

# BatchGetItem takes at most 100 keys.
MAX_KEYS_PER_BATCH: Final = 100


class ConfiguredTables:
    """Every Iceberg table the stack writes, with its maintenance settings."""

    def __init__(
        self,
        configs: PipelineConfigStore,
        cdc_tables: CdcTableStore | None,
        lake_database: str,
    ) -> None:
        self.configs = configs
        self.cdc_tables = cdc_tables
        self.lake_database = lake_database

    def maintained_tables(self) -> list[MaintainedTable]:
        tables = [
            MaintainedTable(t.target_database, t.target_table, t.maintenance, "merge")
            for t in self.configs.load_all_table_configs()
            if t.active
        ]
        if self.cdc_tables is not None:
            tables += [
                MaintainedTable(self.lake_database, t.target_table, t.maintenance, "cdc")
                for t in self.cdc_tables.load_all()
                if t.active
            ]
        return tables


class GlueTableCatalog:
    """Which tables exist: one paginated GetTables per database (a configured merge table
    exists only after its first merge, and Athena fails on a table that does not)."""

    def __init__(self, client: "GlueClient | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "GlueClient":
        return self._client or boto3.client("glue")

    def existing_tables(self, databases: Collection[str]) -> set[str]:
        found: set[str] = set()
        for database in sorted(databases):
            try:
                for page in self.client.get_paginator("get_tables").paginate(DatabaseName=database):
                    found.update(table_key(database, t["Name"]) for t in page["TableList"])
            except self.client.exceptions.EntityNotFoundException:
                continue  # no database yet: none of its tables exists
        return found


class DynamoMaintenanceLog:
    """Reads TableMaintenanceTable: BatchGetItem, 100 keys at a time, unprocessed keys again."""

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self.table_name = table_name
        self._client = client

    @cached_property
    def client(self) -> "DynamoDBClient":
        return self._client or boto3.client("dynamodb")

    def last_maintained(self, keys: Collection[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), MAX_KEYS_PER_BATCH):
            request: dict[str, KeysAndAttributesTypeDef] = {
                self.table_name: {
                    "Keys": [
                        {LOG_KEY_ATTRIBUTE: {"S": key}}
                        for key in ordered[start : start + MAX_KEYS_PER_BATCH]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    _record(found, item)
                unprocessed = response.get("UnprocessedKeys") or {}
                request = {
                    table: {"Keys": keys["Keys"], "ConsistentRead": True}
                    for table, keys in unprocessed.items()
                }
        return found


def _record(found: dict[str, datetime], item: Mapping[str, object]) -> None:
    key = item.get(LOG_KEY_ATTRIBUTE)
    moment = item.get(LOG_TIME_ATTRIBUTE)
    if not (isinstance(key, dict) and isinstance(moment, dict)):
        return
    try:
        found[str(key["S"])] = datetime.fromisoformat(str(moment["S"]))
    except (KeyError, ValueError):
        # A damaged entry means "never maintained": the table is maintained again, not skipped.
        logger.warning("Unreadable maintenance log entry", extra={"item": str(item)[:500]})
