"""The Glue catalog type fixer end to end on the deployed template (local runtime on moto): a
table written to the crawled database → "Glue Data Catalog Table State Change" →
CatalogChangesQueue → catalog_type_fixer → UpdateTable with array<T> in place of set<T>."""

from typing import Any

import pytest

from local_runtime import LocalRuntime
from tests.integration.conftest import queue_depth

# DynamoDB plays no part: not repeated on DynamoDB Local.
pytestmark = pytest.mark.dynamodb_incidental

CRAWLED_COLUMNS = [
    {"Name": "session_id", "Type": "string"},
    {"Name": "tags", "Type": "set<string>"},
    {"Name": "scores", "Type": "set<bigint>"},
    {"Name": "profile", "Type": "struct<labels:set<string>,offset:bigint>"},
]
FIXED_TYPES = [
    "string",
    "array<string>",
    "array<bigint>",
    "struct<labels:array<string>,offset:bigint>",
]
CRAWLER_PARAMETERS = {"classification": "dynamodb", "hashKey": "session_id", "typeOfData": "table"}


def crawl(runtime: LocalRuntime, name: str, columns: list[dict[str, str]], **extra: Any) -> None:
    """Writes a table as a crawler over a DynamoDB table would."""
    runtime.client("glue").create_table(
        DatabaseName=runtime.outputs["CrawledDatabaseName"],
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": dict(CRAWLER_PARAMETERS, **extra.get("parameters", {})),
            "StorageDescriptor": {
                "Columns": columns,
                "Location": f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}",
            },
        },
    )


def table(runtime: LocalRuntime, name: str) -> dict[str, Any]:
    got: dict[str, Any] = runtime.client("glue").get_table(
        DatabaseName=runtime.outputs["CrawledDatabaseName"], Name=name
    )["Table"]
    return got


def versions(runtime: LocalRuntime, name: str) -> int:
    return len(
        runtime.client("glue").get_table_versions(
            DatabaseName=runtime.outputs["CrawledDatabaseName"], TableName=name
        )["TableVersions"]
    )


def fixer_runs(runtime: LocalRuntime) -> list[Any]:
    return [i for i in runtime.invocations if i.function == "CatalogTypeFixerFunction"]


def test_a_crawled_tables_set_columns_become_arrays(runtime: LocalRuntime) -> None:
    # Given the deployed template
    # When a crawler creates a table with set columns in the crawled database
    crawl(runtime, "sessions", CRAWLED_COLUMNS)
    runtime.settle()

    # Then every set<T>, nested too, is now array<T>, and nothing else changed
    fixed = table(runtime, "sessions")
    columns = fixed["StorageDescriptor"]["Columns"]
    assert [c["Type"] for c in columns] == FIXED_TYPES
    assert [c["Name"] for c in columns] == [c["Name"] for c in CRAWLED_COLUMNS]
    assert fixed["Parameters"] == CRAWLER_PARAMETERS
    # And the fixer's own update came back as an event and changed nothing (no loop)
    assert len(fixer_runs(runtime)) == 2
    assert versions(runtime, "sessions") == 2
    assert queue_depth(runtime, "CatalogChangesDLQUrl") == 0


def test_a_table_without_sets_is_not_updated(runtime: LocalRuntime) -> None:
    # Given a crawled table whose columns are all Hive types already
    crawl(runtime, "plain", [{"Name": "id", "Type": "string"}, {"Name": "n", "Type": "bigint"}])

    # When its creation event is handled
    runtime.settle()

    # Then the fixer ran and left the table alone
    assert len(fixer_runs(runtime)) == 1
    assert versions(runtime, "plain") == 1


def test_an_iceberg_table_is_refused(runtime: LocalRuntime) -> None:
    # Given an Iceberg table with a set column in the crawled database
    crawl(
        runtime,
        "iceberg_sessions",
        CRAWLED_COLUMNS,
        parameters={"table_type": "ICEBERG", "metadata_location": "s3://lake/m/00001.json"},
    )

    # When its creation event is handled
    runtime.settle()

    # Then the table is not touched (UpdateTable would drop its Iceberg metadata)
    assert versions(runtime, "iceberg_sessions") == 1
    assert table(runtime, "iceberg_sessions")["StorageDescriptor"]["Columns"] == CRAWLED_COLUMNS


def test_tables_of_other_databases_are_not_routed(runtime: LocalRuntime) -> None:
    # Given a table with a set column in a database the fixer does not watch
    glue = runtime.client("glue")
    glue.create_database(DatabaseInput={"Name": "elsewhere"})
    glue.create_table(
        DatabaseName="elsewhere",
        TableInput={"Name": "t", "StorageDescriptor": {"Columns": CRAWLED_COLUMNS}},
    )

    # When the graph settles
    runtime.settle()

    # Then the rule routed nothing to the fixer
    assert fixer_runs(runtime) == []
