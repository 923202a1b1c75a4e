"""Workbook tables through the template: the pipeline config declares a table over a clean-bucket
folder → the config loader makes its Glue table → workbooks uploaded under that folder are
cleaned (one typed CSV each, by the folder's cleaning spec) → Athena reads their rows, typed.
With QuickSight on: tests/integration/test_workbook_datasets_flow.py.

One runtime for the module's Athena tests (a deploy takes seconds): each leaves the orders table
and its two workbooks as the fixture made them."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs

from datalake_shared.pipeline_config import parse_pipeline_config
from datalake_shared.workbook_datasets import select_statement
from dev.demo.excel import CLEANING_SPECS, ORDERS_PREFIX, orders_q3, orders_q4
from dev.demo.run import EXAMPLE_CONFIG
from dev.demo.support import athena_rows
from dev.runtime import project_runtime
from local_runtime import LocalRuntime

pytestmark = pytest.mark.dynamodb_incidental

SCRATCH = {
    "name": "scratch",
    "prefix": "incoming/scratch/",
    "columns": [{"name": "note", "type": "string"}],
}


def load_config(runtime: LocalRuntime, key: str, body: bytes) -> dict[str, Any]:
    """Uploads a config file; returns the config loader's summary of it."""
    runtime.s3.put_object(Bucket=runtime.outputs["ConfigBucketName"], Key=key, Body=body)
    runtime.settle()
    loads = [i for i in runtime.invocations if "ConfigLoader" in i.function]
    summary: dict[str, Any] = loads[-1].response
    return summary


def sample_with(tables: list[dict[str, Any]]) -> bytes:
    """config/pipeline.yaml with these workbook tables, as JSON."""
    data = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    return json.dumps({**data, "workbook_tables": tables}).encode()


def upload_orders(runtime: LocalRuntime) -> None:
    raw = runtime.outputs["RawWorkbookBucketName"]
    runtime.s3.put_object(Bucket=raw, Key=f"{ORDERS_PREFIX}2026-q3.xlsx", Body=orders_q3())
    runtime.s3.put_object(Bucket=raw, Key=f"{ORDERS_PREFIX}2026-q4.xlsx", Body=orders_q4())
    runtime.settle()


def glue_tables(runtime: LocalRuntime) -> list[str]:
    listed = runtime.client("glue").get_tables(DatabaseName=runtime.outputs["LakeDatabaseName"])
    return sorted(t["Name"] for t in listed["TableList"] if t["Name"].startswith("workbook_"))


@pytest.fixture(scope="module")
def orders() -> Iterator[tuple[LocalRuntime, dict[str, Any]]]:
    """The sample config loaded (its workbook table "orders"), then two order workbooks
    uploaded under the table's folder, cleaned by its spec."""
    parameters = {"WorkbookCleaningSpecs": json.dumps(CLEANING_SPECS)}
    with project_runtime(parameters=parameters) as runtime:
        summary = load_config(runtime, "config/pipeline.yaml", EXAMPLE_CONFIG.read_bytes())
        upload_orders(runtime)
        yield runtime, summary


def test_the_config_loader_makes_the_declared_table(
    orders: tuple[LocalRuntime, dict[str, Any]],
) -> None:
    runtime, summary = orders
    assert summary["reconciled"]["workbook_tables"]["created"] == ["workbook_orders"]
    assert "workbook_orders" in glue_tables(runtime)


def test_the_table_reads_the_rows_of_every_workbook_under_its_prefix(
    orders: tuple[LocalRuntime, dict[str, Any]],
) -> None:
    # Given two workbooks cleaned under the folder (a CSV and a manifest each)
    runtime, _ = orders
    # When the table is queried
    _, rows = athena_rows(runtime, "SELECT region FROM workbook_orders ORDER BY region")
    # Then it holds both workbooks' rows: no header row, nothing read from the manifests
    assert rows == [["Basel"], ["Genève"], ["Zürich"]]


def test_typed_columns_are_typed_and_empty_cells_are_null(
    orders: tuple[LocalRuntime, dict[str, Any]],
) -> None:
    runtime, _ = orders
    # Given the cleaned rows (Basel: units blank, revenue "n/a") / When compared as typed values
    _, rows = athena_rows(
        runtime,
        "SELECT region, units * 2, revenue > 1000, "
        "CAST(NULLIF(order_date, '') AS date) < DATE '2026-08-01' "
        "FROM workbook_orders WHERE paid AND (units > 10 OR units IS NULL) ORDER BY region",
    )
    # Then numbers, booleans and the cast dates compare as such, and the empty cells are NULL
    assert rows == [["Basel", "", "", "false"], ["Zürich", "24", "true", "true"]]


def test_the_datasets_query_reads_every_column_dates_typed(
    orders: tuple[LocalRuntime, dict[str, Any]],
) -> None:
    # Given the sample config's orders table and its two workbooks
    runtime, _ = orders
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    [table] = parse_pipeline_config(text, "pipeline.yaml").workbook_tables or []
    query = select_statement(table, runtime.outputs["LakeDatabaseName"])
    # When the query its QuickSight dataset imports runs on Athena (a date sum proves the type)
    header, rows = athena_rows(
        runtime,
        f"SELECT *, date_diff('day', DATE '2026-07-01', order_date) AS days FROM ({query})",  # noqa: S608
    )
    # Then each column comes back under its name, dates as dates, empty cells as NULL
    assert header == [*(column.name for column in table.columns), "days"]
    assert sorted(rows) == [
        ["Basel", "2026-10-02", "", "", "true", "93"],
        ["Genève", "2026-08-14", "7", "0.3", "false", "44"],
        ["Zürich", "2026-07-03", "12", "1499.9", "true", "2"],
    ]


def test_a_second_load_and_a_reupload_change_nothing(
    orders: tuple[LocalRuntime, dict[str, Any]],
) -> None:
    # Given the orders table and its two workbooks
    runtime, _ = orders
    # When the same config is loaded again, and the same workbooks are uploaded again
    summary = load_config(runtime, "config/pipeline.yaml", EXAMPLE_CONFIG.read_bytes())
    upload_orders(runtime)
    # Then the table was found as it should be, and holds each row once
    assert summary["reconciled"]["workbook_tables"] == {
        "created": [],
        "updated": [],
        "removed": [],
        "unchanged": 1,
    }
    _, rows = athena_rows(runtime, "SELECT count(*) FROM workbook_orders")
    assert rows == [["3"]]


def test_a_table_left_out_of_the_config_is_deleted(
    orders: tuple[LocalRuntime, dict[str, Any]],
) -> None:
    # Given a second workbook table added by a config
    runtime, _ = orders
    [orders_table] = yaml.safe_load(EXAMPLE_CONFIG.read_text())["workbook_tables"]
    added = load_config(runtime, "config/pipeline.json", sample_with([orders_table, SCRATCH]))
    assert added["reconciled"]["workbook_tables"]["created"] == ["workbook_scratch"]
    # When a config lists the orders table only
    removed = load_config(runtime, "config/pipeline.json", sample_with([orders_table]))
    # Then the scratch table is deleted, the orders table kept
    assert removed["reconciled"]["workbook_tables"]["removed"] == ["workbook_scratch"]
    assert glue_tables(runtime) == ["workbook_orders"]
