"""An in-memory Glue catalog for the fixer's tests, GetTable responses and sample events."""

import copy
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from lambda_support import load_handler_module, load_sample_event, sqs_batch_like

from catalog_type_fixer.models import CatalogChangeEvent
from catalog_type_fixer.service import (
    CatalogTypeFixer,
    TableChangedMeanwhileError,
    TableNotFoundError,
)

HERE = Path(__file__).resolve().parent
DATABASE = "crawled_db"

TABLE_INPUT_MEMBERS = frozenset(
    botocore.session.get_session().get_service_model("glue").shape_for("TableInput").members
)
"""The keys UpdateTable's TableInput takes, as botocore's Glue model declares them."""

app = load_handler_module("catalog_type_fixer")
load_event = partial(load_sample_event, "catalog_type_fixer")


def get_table_response(name: str) -> dict[str, Any]:
    """A GetTable response saved in this folder (get_table_<name>.json)."""
    response: dict[str, Any] = json.loads((HERE / f"get_table_{name}.json").read_text())
    return response


def crawled_table() -> dict[str, Any]:
    """The Table of a DynamoDB table crawled by Glue, its sets typed set<...>."""
    return get_table_response("dynamodb_sessions")["Table"]


def parquet_table() -> dict[str, Any]:
    """The Table of a partitioned Parquet dataset crawled in S3 (no sets)."""
    return get_table_response("parquet_orders")["Table"]


def iceberg_table() -> dict[str, Any]:
    return get_table_response("iceberg_sessions")["Table"]


def table_event(
    table: str = "sessions", change: str = "UpdateTable", database: str = DATABASE
) -> CatalogChangeEvent:
    """A Glue event shaped like the samples: for CreateTable a "Database State Change" listing
    the table, for any other change a "Table State Change" naming it (as Glue sends them)."""
    if change == "CreateTable":
        return database_event([table], database=database)
    body = json.loads(load_event("table_updated.json")["Records"][0]["body"])
    body["resources"] = [f"arn:aws:glue:us-east-1:123456789012:table/{database}/{table}"]
    body["detail"].update(databaseName=database, tableName=table, typeOfChange=change)
    return CatalogChangeEvent.model_validate(body)


def database_event(
    tables: list[str], change: str = "CreateTable", database: str = DATABASE
) -> CatalogChangeEvent:
    """A Glue "Database State Change" event listing ``tables`` (the CreateTable shape)."""
    body = json.loads(load_event("table_created.json")["Records"][0]["body"])
    body["resources"] = [
        f"arn:aws:glue:us-east-1:123456789012:table/{database}/{table}" for table in tables
    ]
    body["detail"] = {"databaseName": database, "typeOfChange": change, "changedTables": tables}
    return CatalogChangeEvent.model_validate(body)


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS batch (sample record shape) carrying the given bodies, message ids m0, m1..."""
    return sqs_batch_like(load_event("table_updated.json")["Records"][0], *bodies)


def event_body(event: CatalogChangeEvent) -> dict[str, Any]:
    body: dict[str, Any] = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    return body


@dataclass
class UpdateCall:
    database: str
    table_input: dict[str, Any]
    version_id: str | None


@dataclass
class FakeCatalog:
    """Dict-backed catalog with Glue's optimistic concurrency on UpdateTable.

    ``crawler_writes_after_read`` makes that many GetTable calls be followed by a crawler's
    write (the stored version moves on), so the update that follows finds a newer version.
    ``update_errors`` are raised, in turn, by the next UpdateTable calls (None: that call succeeds).
    """

    tables: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    crawler_writes_after_read: int = 0
    update_errors: list[Exception | None] = field(default_factory=list)  # None: succeeds
    updates: list[UpdateCall] = field(default_factory=list)
    reads: int = 0

    def add(self, table: dict[str, Any], database: str = DATABASE) -> None:
        stored = copy.deepcopy(table)
        stored["DatabaseName"] = database
        self.tables[(database, stored["Name"])] = stored

    def table(self, name: str, database: str = DATABASE) -> dict[str, Any]:
        return self.tables[(database, name)]

    def get_table(self, database: str, name: str) -> Any:
        self.reads += 1
        stored = self.tables.get((database, name))
        if stored is None:
            raise TableNotFoundError(f"{database}.{name}")
        table = copy.deepcopy(stored)
        if self.crawler_writes_after_read:
            self.crawler_writes_after_read -= 1
            stored["VersionId"] = str(int(stored["VersionId"]) + 1)
        return table

    def update_table(self, database: str, table_input: Any, version_id: str | None) -> None:
        self.updates.append(UpdateCall(database, copy.deepcopy(table_input), version_id))
        error = self.update_errors.pop(0) if self.update_errors else None
        if error is not None:
            raise error
        stored = self.tables.get((database, table_input["Name"]))
        if stored is None:
            raise TableNotFoundError(f"{database}.{table_input['Name']}")
        if version_id is not None and version_id != stored["VersionId"]:
            raise TableChangedMeanwhileError(f"{database}.{table_input['Name']}")
        # UpdateTable replaces the whole definition; only what TableInput cannot hold stays.
        read_only = {key: value for key, value in stored.items() if key not in TABLE_INPUT_MEMBERS}
        self.tables[(database, table_input["Name"])] = {
            **read_only,
            **copy.deepcopy(table_input),
            "VersionId": str(int(stored["VersionId"]) + 1),
        }


def access_denied() -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "User is not authorized to perform: glue:UpdateTable",
            }
        },
        "UpdateTable",
    )


def fixer_over(catalog: FakeCatalog, *databases: str) -> CatalogTypeFixer:
    return CatalogTypeFixer(frozenset(databases or (DATABASE,)), catalog)


def column_types(table: dict[str, Any]) -> dict[str, str]:
    return {column["Name"]: column["Type"] for column in table["StorageDescriptor"]["Columns"]}
