"""Demo section: the Glue catalog type fixer. A crawler over a DynamoDB table writes set<T>
columns, which Athena and Firehose cannot read; the table's creation event reaches
catalog_type_fixer, which rewrites them to array<T> (its own update comes back as an event and
changes nothing)."""

from typing import TYPE_CHECKING

from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

TABLE = "search_sessions"
_CRAWLED_COLUMNS = [
    {"Name": "session_id", "Type": "string"},
    {"Name": "query_terms", "Type": "set<string>"},
    {"Name": "result_ids", "Type": "set<bigint>"},
    {"Name": "client", "Type": "struct<name:string,features:set<string>>"},
]


def run(runtime: "LocalRuntime") -> None:
    database = runtime.outputs["CrawledDatabaseName"]
    glue = runtime.client("glue")
    # What a crawler over a DynamoDB table writes.
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": TABLE,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "dynamodb", "hashKey": "session_id"},
            "StorageDescriptor": {
                "Columns": _CRAWLED_COLUMNS,
                "Location": f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}",
            },
        },
    )
    runtime.settle()
    fixed = glue.get_table(DatabaseName=database, Name=TABLE)["Table"]
    after = {c["Name"]: c["Type"] for c in fixed["StorageDescriptor"]["Columns"]}
    runs = [i for i in runtime.invocations if i.function == "CatalogTypeFixerFunction"]
    print(
        f"\n9. Glue catalog type fixer: a crawler created {database}.{TABLE}; Glue's catalog "
        f"change events → CatalogTableChangedRule → catalog_type_fixer ({len(runs)} run(s)):"
    )
    print(
        table(
            ["column", "crawled as", "now"],
            [[c["Name"], c["Type"], after[c["Name"]]] for c in _CRAWLED_COLUMNS],
        )
    )
    versions = glue.get_table_versions(DatabaseName=database, TableName=TABLE)["TableVersions"]
    print(
        f"   {len(versions)} table versions: the crawler's and the fix; the fix's own "
        "UpdateTable event found nothing to change (no loop)."
    )
