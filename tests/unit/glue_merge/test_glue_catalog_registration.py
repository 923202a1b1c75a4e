"""The local merge job's Glue entries: what Glue's Iceberg catalog creates on AWS, so the local
Athena (and the maintenance run) finds the tables the DuckDB engine wrote."""

from pathlib import Path

import boto3
import duckdb
import pytest
from moto import mock_aws

from dev.glue_merge.glue_catalog import glue_type, register_lake_tables

WAREHOUSE = "s3://lake-bucket/warehouse/"


def lake_file(tmp_path: Path) -> Path:
    """A lake.duckdb holding sales.orders as the merge job creates it."""
    path = tmp_path / "lake.duckdb"
    with duckdb.connect(str(path)) as lake:
        lake.execute("CREATE SCHEMA sales")
        lake.execute(
            "CREATE TABLE sales.orders (order_id BIGINT, amount DECIMAL(10,2), status VARCHAR, "
            "order_date DATE, change_ts TIMESTAMP)"
        )
    return path


def test_each_lake_table_becomes_an_iceberg_glue_table_once(tmp_path: Path) -> None:
    lake = lake_file(tmp_path)
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        # Given a lake table Glue does not know / When registered twice
        first = register_lake_tables(lake, glue, WAREHOUSE)
        second = register_lake_tables(lake, glue, WAREHOUSE)
        # Then the first creates the database and an ICEBERG table with its columns, the second
        # nothing
        assert (first, second) == (["sales.orders"], [])
        table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    assert table["StorageDescriptor"]["Location"] == f"{WAREHOUSE}sales.db/orders"
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("order_id", "bigint"),
        ("amount", "decimal(10,2)"),
        ("status", "string"),
        ("order_date", "date"),
        ("change_ts", "timestamp"),
    ]


def test_a_type_the_job_never_creates_is_refused() -> None:
    with pytest.raises(ValueError, match="HUGEINT"):
        glue_type("HUGEINT")
