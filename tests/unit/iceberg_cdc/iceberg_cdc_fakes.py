# ruff: noqa: S608 - the DuckDB helpers build SQL from test-controlled names, quoted by quote().
"""In-memory stand-ins for iceberg_cdc: Glue, an Athena that runs its SQL on DuckDB, EventBridge,
and builders of DynamoDB stream records.

The DuckDB side follows the SQL dialect contract (ICEBERG_TABLE.md): each Glue table is a
DuckDB table ``"<database>"."<table>"`` whose column types map from the Glue types, and every
statement runs as ``sqlglot.transpile(sql, read="trino", write="duckdb")``. Every statement
must also parse with sqlglot's "trino" and "athena" dialects, which this Athena checks.
"""

import base64
import itertools
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb
import sqlglot
from botocore.exceptions import ClientError
from sqlglot import exp

from datalake_shared.event_publisher import EventPublisher
from iceberg_cdc.announcer import CdcEventPublisher
from iceberg_cdc.athena import AthenaStatementRunner
from iceberg_cdc.catalog import GlueSchemaCatalog
from iceberg_cdc.column_types import (
    ArrayType,
    ColumnType,
    MapType,
    ScalarType,
    StructType,
    parse_glue_type,
)
from iceberg_cdc.service import ApplyOptions, CdcApplier
from local_runtime.template import glue_table_columns

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_glue import GlueClient

from eventbridge_fake import FakeEventsClient
from lambda_support import load_handler_module, load_sample_event

ROOT = Path(__file__).resolve().parents[3]
WORKGROUP = "datalake-events-test"
DATABASE = "datalake_events_test_cdc"
TABLE = "orders"
STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/datalake-events-dev-cdc-orders"
    "/stream/2026-11-20T10:00:00.000"
)
# The demo table of ICEBERG_TABLE.md, exactly as Glue holds it.
DEMO_COLUMNS: tuple[tuple[str, str], ...] = glue_table_columns(
    ROOT / "template.yaml", "CdcOrdersTable"
)

app = load_handler_module("iceberg_cdc")
load_event = partial(load_sample_event, "iceberg_cdc")


# ------------------------------------------------------------------------------ Glue


def glue_table(
    name: str, columns: Iterable[tuple[str, str]], table_type: str | None = "ICEBERG"
) -> dict[str, Any]:
    """A GetTable ``Table`` as Glue returns it for an Athena-created Iceberg table."""
    return {
        "Name": name,
        "DatabaseName": DATABASE,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": table_type} if table_type else {},
        "StorageDescriptor": {
            "Columns": [{"Name": column, "Type": glue_type} for column, glue_type in columns],
            "Location": f"s3://datalake-example/warehouse/{name}",
        },
    }


@dataclass
class FakeGlueClient:
    """``get_table`` over a dict; ``add_columns`` is what Athena's ALTER TABLE does to Glue."""

    tables: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    get_calls: int = 0
    outages: int = 0

    def put(self, database: str, table: dict[str, Any]) -> None:
        self.tables[(database, table["Name"])] = table

    def get_table(self, DatabaseName: str, Name: str) -> dict[str, Any]:
        self.get_calls += 1
        if self.outages:
            self.outages -= 1
            raise ClientError(
                {"Error": {"Code": "InternalServiceException", "Message": "try later"}}, "GetTable"
            )
        table = self.tables.get((DatabaseName, Name))
        if table is None:
            raise ClientError(
                {"Error": {"Code": "EntityNotFoundException", "Message": "no such table"}},
                "GetTable",
            )
        return {"Table": json.loads(json.dumps(table))}

    def add_columns(self, database: str, name: str, columns: Sequence[tuple[str, str]]) -> None:
        storage = self.tables[(database, name)]["StorageDescriptor"]
        storage["Columns"].extend({"Name": column, "Type": kind} for column, kind in columns)

    def columns(self, database: str = DATABASE, name: str = TABLE) -> list[tuple[str, str]]:
        storage = self.tables[(database, name)]["StorageDescriptor"]
        return [(column["Name"], column["Type"]) for column in storage["Columns"]]


# ------------------------------------------------------------------------------ DuckDB


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_DUCKDB_SCALARS = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "REAL",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}


def duckdb_type(column_type: ColumnType) -> str:
    """The contract's Glue -> DuckDB mapping."""
    match column_type:
        case ScalarType(name="decimal", precision=precision, scale=scale):
            return f"DECIMAL({precision},{scale})"
        case ScalarType(name=name):
            return _DUCKDB_SCALARS[name]
        case ArrayType(element=element):
            return f"{duckdb_type(element)}[]"
        case MapType(key=key, value=value):
            return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"
        case StructType(fields=fields):
            members = ", ".join(f"{quote(f.name)} {duckdb_type(f.type)}" for f in fields)
            return f"STRUCT({members})"


class DuckDbWarehouse:
    """The Iceberg tables, as DuckDB tables built from their Glue columns."""

    def __init__(self, glue: FakeGlueClient) -> None:
        self.glue = glue
        self.connection = duckdb.connect()
        for (database, name), table in glue.tables.items():
            self.create(database, name, [(c["Name"], c["Type"]) for c in _columns(table)])

    def create(self, database: str, name: str, columns: Sequence[tuple[str, str]]) -> None:
        definitions = ", ".join(
            f"{quote(column)} {duckdb_type(parse_glue_type(kind))}" for column, kind in columns
        )
        self.connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(database)}")
        self.connection.execute(f"CREATE TABLE {quote(database)}.{quote(name)} ({definitions})")

    def execute(self, sql: str) -> None:
        """Runs one statement as the local Athena stand-in would (raises on any error)."""
        sqlglot.parse_one(sql, read="athena")  # must parse as Athena would read it
        # What sqlglot.transpile(sql, read="trino", write="duckdb") does, one parse for both.
        parsed = sqlglot.parse_one(sql, read="trino")
        if isinstance(parsed, exp.Alter):
            self._alter(parsed)
            return
        self.connection.execute(parsed.sql(dialect="duckdb")).fetchall()

    def _alter(self, statement: exp.Alter) -> None:
        table = statement.this
        database, name = table.db, table.name
        added: list[tuple[str, str]] = []
        for action in statement.args.get("actions") or []:
            for definition in action.expressions:
                column = definition.this.name
                glue_type = definition.args["kind"].sql("hive").lower().replace(" ", "")
                added.append((column, glue_type))
        for column, glue_type in added:
            kind = duckdb_type(parse_glue_type(glue_type))
            self.connection.execute(
                f"ALTER TABLE {quote(database)}.{quote(name)} ADD COLUMN {quote(column)} {kind}"
            )
        self.glue.add_columns(database, name, added)

    def rows(self, database: str = DATABASE, name: str = TABLE) -> dict[Any, dict[str, Any]]:
        """Every row by its first column (the key in these tests)."""
        cursor = self.connection.execute(f"SELECT * FROM {quote(database)}.{quote(name)}")
        names = [description[0] for description in cursor.description or []]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return {row[names[0]]: row for row in rows}

    def insert(self, row: Mapping[str, Any], database: str = DATABASE, name: str = TABLE) -> None:
        columns = ", ".join(quote(column) for column in row)
        marks = ", ".join("?" for _ in row)
        self.connection.execute(
            f"INSERT INTO {quote(database)}.{quote(name)} ({columns}) VALUES ({marks})",
            list(row.values()),
        )


def _columns(table: Mapping[str, Any]) -> list[dict[str, str]]:
    columns: list[dict[str, str]] = table["StorageDescriptor"]["Columns"]
    return columns


# ------------------------------------------------------------------------------ Athena


def client_error(code: str, operation: str = "StartQueryExecution") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} (test)"}}, operation)


@dataclass
class Outcome:
    """What the fake Athena does with a statement it starts."""

    state: str = "SUCCEEDED"
    reason: str = ""
    retryable: bool = False


COMMIT_CONFLICT = Outcome(
    "FAILED",
    "ICEBERG_COMMIT_ERROR: Failed to commit Iceberg update to table: Commit failed; "
    "ConcurrentModificationException",
)


@dataclass
class FakeAthenaClient:
    """StartQueryExecution / GetQueryExecution / StopQueryExecution over a DuckDbWarehouse.

    - ``throttles``: the next N StartQueryExecution calls raise TooManyRequestsException.
    - ``conflicts``: the next N started statements fail with ICEBERG_COMMIT_ERROR.
    - ``poison``: a statement whose text holds any of these strings FAILS (not retryable), as
      Athena does for a value it cannot cast: nothing is written.
    - ``script``: outcomes for the next statements, in order, before anything else applies.
    - ``running_polls``: GetQueryExecution says RUNNING this many times per statement first.
    A statement that succeeds is run on the warehouse (a DuckDB error FAILS it, like Athena).
    """

    warehouse: DuckDbWarehouse
    throttles: int = 0
    conflicts: int = 0
    poison: tuple[str, ...] = ()
    script: list[Outcome] = field(default_factory=list)
    running_polls: int = 0
    started: list[str] = field(default_factory=list)
    """Every statement started (attempts included)."""
    succeeded: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    _status: dict[str, dict[str, Any]] = field(default_factory=dict)
    _polls: dict[str, int] = field(default_factory=dict)
    _ids: Iterable[int] = field(default_factory=itertools.count)

    def start_query_execution(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.throttles:
            self.throttles -= 1
            raise client_error("TooManyRequestsException")
        sql: str = request["QueryString"]
        self.started.append(sql)
        query_id = f"qe-{next(iter(self._ids)):04d}-{uuid.uuid4().hex[:8]}"
        outcome = self._outcome(sql)
        if outcome.state == "SUCCEEDED":
            try:
                self.warehouse.execute(sql)
                self.succeeded.append(sql)
            except (duckdb.Error, sqlglot.errors.SqlglotError) as error:
                outcome = Outcome("FAILED", f"GENERIC_INTERNAL_ERROR: {error}")
        status: dict[str, Any] = {"State": outcome.state}
        if outcome.state != "SUCCEEDED":
            status["StateChangeReason"] = outcome.reason
            status["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1000,
                "Retryable": outcome.retryable,
                "ErrorMessage": outcome.reason,
            }
        self._status[query_id] = status
        self._polls[query_id] = 0
        return {"QueryExecutionId": query_id}

    def _outcome(self, sql: str) -> Outcome:
        if self.script:
            return self.script.pop(0)
        if any(marker in sql for marker in self.poison):
            return Outcome(
                "FAILED", "INVALID_CAST_ARGUMENT: Cannot cast value to the column's type"
            )
        if self.conflicts:
            self.conflicts -= 1
            return COMMIT_CONFLICT
        return Outcome()

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        self._polls[QueryExecutionId] += 1
        status = self._status[QueryExecutionId]
        if self._polls[QueryExecutionId] <= self.running_polls:
            status = {"State": "RUNNING"}
        return {"QueryExecution": {"QueryExecutionId": QueryExecutionId, "Status": status}}

    def stop_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        self.stopped.append(QueryExecutionId)
        return {}

    def merges(self) -> list[str]:
        return [sql for sql in self.started if sql.startswith("MERGE")]


def runner_for(
    athena: FakeAthenaClient, sleeps: list[float], max_attempts: int = 4, **options: Any
) -> AthenaStatementRunner:
    """The real statement runner over the fake Athena; sleeps are recorded, jitter is fixed."""
    return AthenaStatementRunner(
        WORKGROUP,
        DATABASE,
        client=cast("AthenaClient", athena),
        max_attempts=max_attempts,
        sleep=sleeps.append,
        jitter=lambda: 0.5,
        **options,
    )


# ------------------------------------------------------------------------------ EventBridge


@dataclass
class Harness:
    """Everything a test needs: the function's collaborators over fakes, and the fakes."""

    glue: FakeGlueClient
    warehouse: DuckDbWarehouse
    athena: FakeAthenaClient
    events: FakeEventsClient
    runner: AthenaStatementRunner
    catalog: GlueSchemaCatalog
    applier: CdcApplier
    sleeps: list[float]
    cdc: Any  # app.IcebergCdc

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = app.lambda_handler(dict(event), context, cdc=self.cdc)
        return response

    def apply(self, records: Sequence[Mapping[str, Any]]) -> Any:
        return self.applier.apply(records, lambda: 600.0)


def harness(
    columns: Iterable[tuple[str, str]] = DEMO_COLUMNS,
    *,
    max_attempts: int = 4,
    table_type: str | None = "ICEBERG",
    **options: Any,
) -> Harness:
    glue = FakeGlueClient()
    glue.put(DATABASE, glue_table(TABLE, columns, table_type))
    warehouse = DuckDbWarehouse(glue)
    athena = FakeAthenaClient(warehouse)
    events = FakeEventsClient()
    sleeps: list[float] = []
    runner = runner_for(athena, sleeps, max_attempts)
    catalog = GlueSchemaCatalog(ttl_seconds=300, client=cast("GlueClient", glue))
    applier = CdcApplier(ApplyOptions(database=DATABASE, table=TABLE, **options), catalog, runner)
    publisher = CdcEventPublisher(
        EventPublisher("iceberg-cdc", "datalake-bus", client=cast("EventBridgeClient", events))
    )
    cdc = app.IcebergCdc(applier=applier, announcer=publisher)
    return Harness(glue, warehouse, athena, events, runner, catalog, applier, sleeps, cdc)


# ------------------------------------------------------------------------------ stream records


def attribute(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one return per DynamoDB type
    """A Python value as DynamoDB JSON (the stream's shape): str S, int/Decimal N, bytes B,
    bool BOOL, None NULL, dict M, list L, set of str/number/bytes SS/NS/BS."""
    match value:
        case None:
            return {"NULL": True}
        case bool():
            return {"BOOL": value}
        case str():
            return {"S": value}
        case int() | Decimal():
            return {"N": str(value)}
        case bytes():
            return {"B": base64.b64encode(value).decode("ascii")}
        case dict():
            return {"M": {name: attribute(member) for name, member in value.items()}}
        case list():
            return {"L": [attribute(member) for member in value]}
        case set() | frozenset():
            members = list(value)
            if all(isinstance(member, str) for member in members):
                return {"SS": members}
            if all(isinstance(member, bytes) for member in members):
                return {"BS": [base64.b64encode(member).decode("ascii") for member in members]}
            return {"NS": [str(member) for member in members]}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def image(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: attribute(value) for name, value in item.items()}


@dataclass
class StreamWriter:
    """Writes stream records the way DynamoDB Streams would for a table keyed by ``keys``."""

    keys: tuple[str, ...] = ("order_id",)
    sequence: Callable[[], int] = field(default_factory=lambda: itertools.count(1000).__next__)

    def _record(
        self,
        name: str,
        item: Mapping[str, Any],
        new: Mapping[str, Any] | None,
        old: Mapping[str, Any] | None,
        ttl: bool = False,
    ) -> dict[str, Any]:
        number = self.sequence()
        change: dict[str, Any] = {
            "ApproximateCreationDateTime": 1795170930,
            "Keys": {key: attribute(item[key]) for key in self.keys},
            "SequenceNumber": f"44215845{number:020d}",
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            change["NewImage"] = image(new)
        if old is not None:
            change["OldImage"] = image(old)
        record: dict[str, Any] = {
            "eventID": uuid.uuid4().hex,
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": change,
            "eventSourceARN": STREAM_ARN,
        }
        if ttl:
            record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        return record

    def insert(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return self._record("INSERT", item, item, None)

    def modify(
        self, item: Mapping[str, Any], old: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._record("MODIFY", item, item, old or item)

    def remove(self, item: Mapping[str, Any], *, ttl: bool = False) -> dict[str, Any]:
        return self._record("REMOVE", item, None, item, ttl)


def sequence_number(record: Mapping[str, Any]) -> str:
    number: str = record["dynamodb"]["SequenceNumber"]
    return number


def order(order_id: str, **fields: Any) -> dict[str, Any]:
    """An ordinary order item of the demo table (fields override or add attributes)."""
    item: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": "cust-0042",
        "status": "placed",
        "amount": Decimal("129.95"),
        "quantity": 2,
        "is_gift": False,
        "tags": {"priority", "web"},
        "attributes": {"channel": "web"},
        "shipping_address": {"street": "1 Main Street", "city": "Springfield", "postcode": "12345"},
        "line_items": [{"sku": "SKU-001", "qty": 1}],
        "signature": b"\x00\x01sig",
        "order_date": "2026-11-20",
        "updated_at": "2026-11-20T10:15:30.123456Z",
        "expires_at": 1826706930,
    }
    item.update(fields)
    return item


def batch(*records: Mapping[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
