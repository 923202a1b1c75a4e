"""One function, N tables: each batch goes to the table its eventSourceARN's cdc_tables entry
names (created from the entry on first use); a table without an active entry fails its records
(Lambda retries them, then CdcFailuresQueue), never dropped; the stack's own stream keeps the
environment's defaults."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlglot
from iceberg_cdc_fakes import DATABASE, Harness, StreamWriter, app, batch, glue_table, harness

from datalake_shared.cdc_tables import STACK_SOURCE, CdcTableConfig
from iceberg_cdc.athena import RunResult, RunStatus
from iceberg_cdc.routing import CachedTableConfigs, TableRouter, by_source, source_table_of
from iceberg_cdc.sql import UnsafeIdentifierError, create_table_sql
from local_runtime.engines.athena.create_table import parse_create_table

ACCOUNT_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table"
BUCKET = "datalake-events-test-lake"


def stream_of(table: str) -> str:
    return f"{ACCOUNT_ARN}/{table}/stream/2026-12-01T00:00:00.000"


CUSTOMERS = CdcTableConfig.model_validate(
    {
        "source_table": "cdc-customers",
        "target_table": "customers",
        "key_columns": ["customer_id"],
        "columns": [
            {"name": "customer_id", "type": "string"},
            {"name": "full_name", "type": "string"},
            {"name": "tags", "type": "array<string>"},
        ],
    }
)


@dataclass
class FakeConfigs:
    """CdcTableStore's ``load`` over a dict, counting reads."""

    entries: dict[str, CdcTableConfig] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def load(self, source_table: str) -> CdcTableConfig | None:
        self.reads.append(source_table)
        return self.entries.get(source_table)


@dataclass
class CreatingRunner:
    """The harness's Athena runner, plus what Athena does for an Iceberg CREATE TABLE."""

    cdc: Harness
    creates: list[str] = field(default_factory=list)

    def run(self, sql: str, remaining: Callable[[], float]) -> RunResult:
        if not sql.startswith("CREATE"):
            return self.cdc.runner.run(sql, remaining)
        self.creates.append(sql)
        ddl = parse_create_table(sql)
        columns = [(c["Name"], c["Type"]) for c in ddl.table_input["StorageDescriptor"]["Columns"]]
        self.cdc.glue.put(DATABASE, glue_table(ddl.name, columns))
        self.cdc.warehouse.create(DATABASE, ddl.name, columns)
        return RunResult(RunStatus.SUCCEEDED)


def routed(cdc: Harness, configs: FakeConfigs, stack_table: str | None = None) -> Any:
    """The harness's function, with a router over the fake configs."""
    runner = CreatingRunner(cdc)
    router = TableRouter(
        cdc.applier.options,
        cdc.catalog,
        runner,
        configs=configs,
        stack_source_table=stack_table,
        lake_bucket=BUCKET,
    )
    return app.IcebergCdc(applier=cdc.applier, announcer=cdc.cdc.announcer, router=router), runner


def customer_records(*items: dict[str, Any]) -> list[dict[str, Any]]:
    writer = StreamWriter(keys=("customer_id",))
    records = [writer.insert(item) for item in items]
    for record in records:
        record["eventSourceARN"] = stream_of("cdc-customers")
    return records


def test_a_configured_tables_batch_creates_its_target_and_lands_there(
    lambda_context: Any,
) -> None:
    # Given an entry for cdc-customers whose Iceberg table does not exist yet
    cdc = harness()
    function, runner = routed(cdc, FakeConfigs({"cdc-customers": CUSTOMERS}))
    records = customer_records(
        {"customer_id": "c-1", "full_name": "Ada", "tags": {"vip"}},
        {"customer_id": "c-2", "full_name": "Bob"},
    )
    # When its batch arrives
    response = app.lambda_handler(batch(*records), lambda_context, cdc=function)
    # Then the table is created from the entry, in the lake bucket, and holds the rows
    assert response == {"batchItemFailures": []}
    assert len(runner.creates) == 1
    assert f"LOCATION 's3://{BUCKET}/iceberg/customers/'" in runner.creates[0]
    rows = cdc.warehouse.rows(DATABASE, "customers")
    assert {key: row["full_name"] for key, row in rows.items()} == {"c-1": "Ada", "c-2": "Bob"}
    # And the orders table saw nothing
    assert cdc.warehouse.rows() == {}


def test_an_existing_target_is_not_created_again(lambda_context: Any) -> None:
    # Given a target table created by an earlier batch
    cdc = harness()
    function, runner = routed(cdc, FakeConfigs({"cdc-customers": CUSTOMERS}))
    app.lambda_handler(
        batch(*customer_records({"customer_id": "c-1"})), lambda_context, cdc=function
    )
    # When the next batch arrives (a new container: the catalog is asked again)
    function, runner = routed(cdc, FakeConfigs({"cdc-customers": CUSTOMERS}))
    app.lambda_handler(
        batch(*customer_records({"customer_id": "c-2"})), lambda_context, cdc=function
    )
    # Then no CREATE runs
    assert runner.creates == []
    assert set(cdc.warehouse.rows(DATABASE, "customers")) == {"c-1", "c-2"}


@pytest.mark.parametrize(
    "entries", [{}, {"cdc-customers": CUSTOMERS.model_copy(update={"active": False})}]
)
def test_a_table_without_an_active_entry_fails_every_record_and_runs_nothing(
    lambda_context: Any, entries: dict[str, CdcTableConfig]
) -> None:
    # Given no active entry for cdc-customers
    cdc = harness()
    function, _ = routed(cdc, FakeConfigs(entries))
    records = customer_records({"customer_id": "c-1"}, {"customer_id": "c-2"})
    # When its batch arrives
    response = app.lambda_handler(batch(*records), lambda_context, cdc=function)
    # Then every record is reported failed (Lambda retries, then the failures queue)
    reported = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    assert reported == [record["dynamodb"]["SequenceNumber"] for record in records]
    # And no statement ran
    assert cdc.athena.merges() == []


def test_the_stacks_stream_without_an_entry_uses_the_environments_table(
    lambda_context: Any,
) -> None:
    # Given the stack's own stream and no cdc_tables entry for it
    cdc = harness()
    function, _ = routed(cdc, FakeConfigs(), stack_table="datalake-events-dev-cdc-orders")
    # When its batch arrives
    record = StreamWriter().insert({"order_id": "o-1", "status": "placed"})
    response = app.lambda_handler(batch(record), lambda_context, cdc=function)
    # Then it lands in the default table (TARGET_TABLE)
    assert response == {"batchItemFailures": []}
    assert set(cdc.warehouse.rows()) == {"o-1"}


def test_the_stacks_stream_follows_its_stack_source_entry() -> None:
    # Given an entry for the stack's own stream that ignores TTL deletions
    cdc = harness()
    entry = CdcTableConfig.model_validate(
        {
            "source_table": STACK_SOURCE,
            "target_table": "orders",
            "key_columns": ["order_id"],
            "ttl_deletes": "ignore",
            "columns": [{"name": "order_id", "type": "string"}],
        }
    )
    configs = FakeConfigs({STACK_SOURCE: entry})
    router = TableRouter(cdc.applier.options, cdc.catalog, cdc.runner, configs=configs)
    # When the stack's stream is routed / Then its options are the entry's
    applier = router.applier_for(None, lambda: 600.0)
    assert applier.options.ttl_policy == "ignore"
    assert applier.options.table == "orders"


def test_the_stacks_stream_with_an_inactive_entry_fails_its_records(
    lambda_context: Any,
) -> None:
    # Given the stack's own stream stopped on purpose (its stack:source entry inactive)
    cdc = harness()
    stopped = CdcTableConfig.model_validate(
        {
            "source_table": STACK_SOURCE,
            "target_table": "orders",
            "key_columns": ["order_id"],
            "columns": [{"name": "order_id", "type": "string"}],
            "active": False,
        }
    )
    stack = "datalake-events-dev-cdc-orders"  # the stream StreamWriter writes to
    function, _ = routed(cdc, FakeConfigs({STACK_SOURCE: stopped}), stack_table=stack)
    # When its batch arrives
    record = StreamWriter().insert({"order_id": "o-1", "status": "placed"})
    response = app.lambda_handler(batch(record), lambda_context, cdc=function)
    # Then nothing lands in the template's default table: the record is failed, for a retry
    assert response == {
        "batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
    }
    assert set(cdc.warehouse.rows()) == set()


def test_entries_are_read_once_per_max_age() -> None:
    # Given a cache of 60 s over the store
    configs = FakeConfigs({"cdc-customers": CUSTOMERS})
    now = [0.0]
    cached = CachedTableConfigs(configs, max_age=60, clock=lambda: now[0])
    # When an entry (and an absent one) are asked for twice within 60 s, then after
    for _ in range(2):
        cached.load("cdc-customers")
        cached.load("cdc-unknown")
    now[0] = 61.0
    cached.load("cdc-customers")
    # Then the store was read once per table, and again once expired
    assert configs.reads == ["cdc-customers", "cdc-unknown", "cdc-customers"]


def test_records_are_grouped_by_the_table_of_their_stream() -> None:
    # Given records of two tables, interleaved, and one without an ARN
    a, b = {"eventSourceARN": stream_of("t-a")}, {"eventSourceARN": stream_of("t-b")}
    # When grouped / Then each table's records keep their order
    assert by_source([a, b, a, {}]) == [("t-a", [a, a]), ("t-b", [b]), (None, [{}])]
    assert source_table_of({"eventSourceARN": "not an arn"}) is None


def test_create_table_is_hive_ddl_with_nothing_but_checked_names() -> None:
    # Given the entry's columns / When the DDL is built
    sql = create_table_sql(
        DATABASE, "customers", [(c.name, c.type) for c in CUSTOMERS.columns], BUCKET
    )
    # Then it parses as Athena's DDL and describes an Iceberg table at the lake's prefix
    sqlglot.parse_one(sql, read="hive")
    assert sql.startswith(f"CREATE TABLE IF NOT EXISTS {DATABASE}.customers (customer_id string")
    assert sql.endswith("TBLPROPERTIES ('table_type'='ICEBERG')")


@pytest.mark.parametrize(
    ("table", "columns", "bucket"),
    [
        ("customers; DROP TABLE x", [("id", "string")], BUCKET),
        ("customers", [("id) LOCATION 's3://evil/' --", "string")], BUCKET),
        ("customers", [("id", "string) LOCATION 's3://evil/'")], BUCKET),
        ("customers", [("id", "string")], "evil/' TBLPROPERTIES ('x'='y"),
    ],
)
def test_create_table_refuses_anything_it_would_have_to_escape(
    table: str, columns: list[tuple[str, str]], bucket: str
) -> None:
    # Given a hostile name, type or bucket / Then no statement is built
    with pytest.raises(UnsafeIdentifierError):
        create_table_sql(DATABASE, table, columns, bucket)
