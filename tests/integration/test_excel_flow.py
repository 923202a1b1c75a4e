"""Excel cleaning and SPICE ingestion through the template: raw bucket → S3 notification → SNS
"uploaded" → excel_cleaner → clean bucket → EventBridge → SPICE ingestion state machine."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from dev.demo.excel import SPICE_DATASETS, budget_workbook, sales_workbook
from dev.runtime import project_runtime
from local_runtime import LocalRuntime

SALES_KEY = "incoming/sales/q3-report.xlsx"


@pytest.fixture
def excel_runtime() -> Iterator[LocalRuntime]:
    with project_runtime(parameters={"SpiceDatasets": json.dumps(SPICE_DATASETS)}) as local:
        for dataset in SPICE_DATASETS.values():  # made in QuickSight, outside the stack
            local.quicksight_bridge.add_dataset(dataset)
        yield local


def upload(runtime: LocalRuntime, key: str, body: bytes) -> None:
    runtime.s3.put_object(Bucket=runtime.outputs["RawWorkbookBucketName"], Key=key, Body=body)
    runtime.settle()


def clean_objects(runtime: LocalRuntime) -> dict[str, bytes]:
    bucket = runtime.outputs["CleanBucketName"]
    listed = runtime.s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        obj["Key"]: runtime.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        for obj in listed
    }


def cleaner_invocations(runtime: LocalRuntime) -> list[Any]:
    return [i for i in runtime.invocations if "ExcelCleaner" in i.function]


def test_an_uploaded_workbook_becomes_one_csv_per_sheet(excel_runtime: LocalRuntime) -> None:
    # Given a messy workbook (title, note, blank rows, totals row, an empty sheet)
    upload(excel_runtime, SALES_KEY, sales_workbook())
    # Then each non-empty sheet is a clean CSV beside a manifest, from one invocation
    objects = clean_objects(excel_runtime)
    sales = objects["incoming/sales/q3-report/q3_sales.csv"].decode()
    assert sales.splitlines()[0] == "region,order_date,units,revenue,discount_pct"
    assert "Zürich,2026-07-03,12,1499.9,0.1" in sales
    assert "Total" not in sales  # the footer totals row is dropped
    assert "incoming/sales/q3-report/targets.csv" in objects
    assert not any("empty" in key for key in objects)
    assert [i.ok for i in cleaner_invocations(excel_runtime)] == [True]


def test_a_reupload_overwrites_the_same_csvs(excel_runtime: LocalRuntime) -> None:
    # Given a workbook cleaned once
    upload(excel_runtime, SALES_KEY, sales_workbook())
    first = set(clean_objects(excel_runtime))
    # When the same key is uploaded again
    upload(excel_runtime, SALES_KEY, sales_workbook())
    # Then the same objects exist, no duplicates
    assert set(clean_objects(excel_runtime)) == first


def test_a_file_that_is_not_a_workbook_is_quarantined_without_retries(
    excel_runtime: LocalRuntime,
) -> None:
    # Given a CSV renamed .xlsx
    key = "incoming/finance/ledger.xlsx"
    upload(excel_runtime, key, b"name,amount\nrent,1200\n")
    # Then a copy waits in quarantine, the raw object is still there, and the function
    # handled it in one successful invocation (no retry storm)
    objects = clean_objects(excel_runtime)
    assert f"quarantine/{key}" in objects
    raw = excel_runtime.s3.head_object(
        Bucket=excel_runtime.outputs["RawWorkbookBucketName"], Key=key
    )
    assert raw["ContentLength"] > 0
    assert not any(k.endswith(".csv") for k in objects)
    assert [i.ok for i in cleaner_invocations(excel_runtime)] == [True]


def test_each_cleaned_workbook_refreshes_its_spice_dataset_once(
    excel_runtime: LocalRuntime,
) -> None:
    # Given the finance dataset cannot be ingested, and workbooks for sales and finance
    excel_runtime.quicksight_bridge.fail_dataset("finance-dataset", "data source unreachable")
    upload(excel_runtime, SALES_KEY, sales_workbook())
    upload(excel_runtime, "incoming/finance/budget.xlsx", budget_workbook())
    # Then each cleaned workbook ran the ingestion state machine once: sales completed (both
    # of its sheets in one refresh), finance failed
    machine = excel_runtime.outputs["SpiceIngestionStateMachineArn"]
    statuses = sorted(
        excel_runtime.stepfunctions_bridge.describe(e.arn)["status"]
        for e in excel_runtime.stepfunctions_bridge.started
        if e.state_machine == machine
    )
    assert statuses == ["FAILED", "SUCCEEDED"]
    ingestions = excel_runtime.quicksight_bridge.ingestions
    assert len(ingestions) == 2


def test_a_redelivered_workbook_event_watches_the_same_ingestion(
    excel_runtime: LocalRuntime,
) -> None:
    # Given a cleaned workbook whose ingestion ran
    upload(excel_runtime, "incoming/finance/budget.xlsx", budget_workbook())
    routed = [r for r in excel_runtime.activity.routed if "WorkbookCleaned" in r.via]
    assert len(routed) == 1
    # When EventBridge delivers the same event again
    machine = excel_runtime.outputs["SpiceIngestionStateMachineArn"]
    excel_runtime.stepfunctions_bridge.start(machine, json.dumps(routed[0].event), "redelivery")
    excel_runtime.settle()
    # Then no second ingestion was created, and the run still reports the ingestion's outcome
    assert len(excel_runtime.quicksight_bridge.ingestions) == 1
    runs = [e for e in excel_runtime.stepfunctions_bridge.started if e.state_machine == machine]
    assert [excel_runtime.stepfunctions_bridge.describe(e.arn)["status"] for e in runs] == [
        "SUCCEEDED",
        "SUCCEEDED",
    ]
