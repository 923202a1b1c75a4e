from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from iceberg_cdc_fakes import DATABASE, DEMO_COLUMNS, TABLE, FakeGlueClient, glue_table
from moto import mock_aws

from iceberg_cdc.catalog import CatalogError, GlueSchemaCatalog, schema_from_glue_table
from iceberg_cdc.column_types import ScalarType, StructType, parse_glue_type

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient


@pytest.fixture
def glue() -> Iterator["GlueClient"]:
    """moto's Glue with the demo database and its Iceberg orders table."""
    with mock_aws():
        client = boto3.client("glue", region_name="us-east-1")
        client.create_database(DatabaseInput={"Name": DATABASE})
        client.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": TABLE,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"table_type": "ICEBERG"},
                "StorageDescriptor": {
                    "Columns": [{"Name": name, "Type": kind} for name, kind in DEMO_COLUMNS],
                    "Location": "s3://datalake-example/warehouse/orders",
                },
            },
        )
        yield client


def test_reads_the_demo_tables_columns_from_glue(glue: "GlueClient") -> None:
    # Given the demo table in Glue / When its schema is read with glue:GetTable
    schema = GlueSchemaCatalog(client=glue).table_schema(DATABASE, TABLE)
    # Then every column is there with its parsed type
    assert [(c.name, c.type.glue) for c in schema.columns] == [
        (name, parse_glue_type(kind).glue) for name, kind in DEMO_COLUMNS
    ]
    address = schema.column_for("shipping_address")
    assert address is not None
    assert isinstance(address.type, StructType)


def test_missing_table_is_a_catalog_error(glue: "GlueClient") -> None:
    # Given no such table / When read / Then a CatalogError names it
    with pytest.raises(CatalogError, match=f"{DATABASE}.nope"):
        GlueSchemaCatalog(client=glue).table_schema(DATABASE, "nope")


def test_schema_is_cached_until_its_ttl_expires() -> None:
    # Given a catalog with a 300 s cache and a clock we move
    fake = FakeGlueClient()
    fake.put(DATABASE, glue_table(TABLE, DEMO_COLUMNS))
    now = {"t": 1000.0}
    catalog = GlueSchemaCatalog(300, client=cast("GlueClient", fake), clock=lambda: now["t"])
    # When read twice within 300 s, then after
    catalog.table_schema(DATABASE, TABLE)
    now["t"] += 299
    catalog.table_schema(DATABASE, TABLE)
    calls_within = fake.get_calls
    now["t"] += 2
    catalog.table_schema(DATABASE, TABLE)
    # Then Glue was asked once, then again once expired
    assert (calls_within, fake.get_calls) == (1, 2)


def test_invalidate_forces_a_fresh_read() -> None:
    # Given a cached schema, then a column added in Glue
    fake = FakeGlueClient()
    fake.put(DATABASE, glue_table(TABLE, DEMO_COLUMNS))
    catalog = GlueSchemaCatalog(client=cast("GlueClient", fake))
    catalog.table_schema(DATABASE, TABLE)
    fake.add_columns(DATABASE, TABLE, [("gift_note", "string")])
    # When invalidated and read / Then the new column is seen
    catalog.invalidate(DATABASE, TABLE)
    assert catalog.table_schema(DATABASE, TABLE).column_for("gift_note") is not None


def table_with(columns: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    table = glue_table(TABLE, [])
    table["StorageDescriptor"]["Columns"] = columns
    table.update(extra)
    return table


def test_dropped_iceberg_columns_are_left_out() -> None:
    # Given a column Athena dropped (Glue keeps it with iceberg.field.current=false)
    columns = [
        {"Name": "order_id", "Type": "string"},
        {"Name": "old", "Type": "string", "Parameters": {"iceberg.field.current": "false"}},
    ]
    # When the schema is built / Then the dropped column is not a column
    schema = schema_from_glue_table(DATABASE, TABLE, table_with(columns))
    assert [c.name for c in schema.columns] == ["order_id"]


def test_columns_of_unsupported_types_are_skipped_with_a_reason() -> None:
    # Given a column of a type this function cannot write
    columns = [{"Name": "order_id", "Type": "string"}, {"Name": "u", "Type": "uuid"}]
    # When the schema is built / Then it is skipped, not fatal
    schema = schema_from_glue_table(DATABASE, TABLE, table_with(columns))
    assert [c.name for c in schema.columns] == ["order_id"]
    assert [(s.name, s.glue_type) for s in schema.skipped] == [("u", "uuid")]
    assert schema.has_column("U")


def test_partition_keys_count_as_columns() -> None:
    # Given a Glue table with partition keys / When built / Then they are columns too
    table = table_with(
        [{"Name": "order_id", "Type": "string"}], PartitionKeys=[{"Name": "day", "Type": "date"}]
    )
    schema = schema_from_glue_table(DATABASE, TABLE, table)
    assert schema.column_for("day") is not None
    assert schema.columns[-1].type == ScalarType("date")


def test_attribute_names_match_columns_exactly_then_ignoring_case() -> None:
    # Given the demo schema / Then attributes find their column, case aside
    schema = schema_from_glue_table(DATABASE, TABLE, glue_table(TABLE, DEMO_COLUMNS))
    column = schema.column_for("Order_ID")
    assert column is not None
    assert column.name == "order_id"
    assert schema.column_for("nope") is None


def test_table_that_is_not_iceberg_is_refused() -> None:
    # Given a Hive table / When the schema is built / Then it is refused
    with pytest.raises(CatalogError, match="not an Iceberg table"):
        schema_from_glue_table(DATABASE, TABLE, glue_table(TABLE, DEMO_COLUMNS, table_type=None))
