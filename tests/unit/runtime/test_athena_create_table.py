"""The local Athena's Iceberg CREATE TABLE: what iceberg_cdc sends for a configured CDC table
whose target does not exist (Glue table with table_type=ICEBERG, then writable with MERGE)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_runtime.engines.athena import AthenaOnDuckDB

DB = "lake"
CREATE = (
    "CREATE TABLE IF NOT EXISTS lake.customers (customer_id string, tags array<string>, "
    "address struct<street:string,city:string>, amount decimal(12,2)) "
    "LOCATION 's3://lake-bucket/iceberg/customers/' TBLPROPERTIES ('table_type'='ICEBERG')"
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": DB})
        with AthenaOnDuckDB(tmp_path / "athena.duckdb", glue, s3) as athena:
            yield athena, glue


def test_create_table_registers_an_iceberg_table_that_merge_can_write(
    engine: tuple[Any, Any],
) -> None:
    athena, glue = engine
    # When iceberg_cdc's CREATE TABLE runs
    outcome = athena.execute(CREATE, DB)
    # Then Glue holds an Iceberg table with the declared columns and location
    assert (outcome.state, outcome.statement_type) == ("SUCCEEDED", "DDL")
    table = glue.get_table(DatabaseName=DB, Name="customers")["Table"]
    assert table["Parameters"]["table_type"] == "ICEBERG"
    assert table["StorageDescriptor"]["Location"] == "s3://lake-bucket/iceberg/customers/"
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        ("customer_id", "string"),
        ("tags", "array<string>"),
        ("address", "struct<street:string,city:string>"),
        ("amount", "decimal(12,2)"),
    ]
    # And a MERGE writes it
    merge = athena.execute(
        "MERGE INTO customers t USING (SELECT 'c-1' AS customer_id) s "
        "ON t.customer_id = s.customer_id WHEN NOT MATCHED THEN INSERT (customer_id) "
        "VALUES (s.customer_id)",
        DB,
    )
    assert merge.state == "SUCCEEDED", merge.error
    assert athena.table_rows(DB, "customers") == [("c-1", None, None, None)]


def test_if_not_exists_makes_a_repeated_create_harmless_and_without_it_fails(
    engine: tuple[Any, Any],
) -> None:
    athena, _ = engine
    # Given the table created once
    athena.execute(CREATE, DB)
    # When created again / Then IF NOT EXISTS succeeds and a bare CREATE fails as Athena's does
    assert athena.execute(CREATE, DB).state == "SUCCEEDED"
    again = athena.execute(CREATE.replace(" IF NOT EXISTS", ""), DB)
    assert again.state == "FAILED"


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE lake.t (a string) LOCATION 's3://b/t/'",
        "CREATE TABLE lake.t (a string) TBLPROPERTIES ('table_type'='ICEBERG')",
        "CREATE VIEW lake.v AS SELECT 1",
    ],
)
def test_only_iceberg_tables_with_a_location_are_created(engine: tuple[Any, Any], sql: str) -> None:
    athena, glue = engine
    # When anything else is asked for / Then it fails and the catalog is unchanged
    assert athena.execute(sql, DB).state == "FAILED"
    assert glue.get_tables(DatabaseName=DB)["TableList"] == []
