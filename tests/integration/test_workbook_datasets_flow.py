"""Workbook tables with QuickSight on (a principal): the config loader makes each table's SPICE
dataset over the stack's Athena data source, and the SPICE ingestion flow refreshes it whenever a
workbook is cleaned under the table's prefix (spice_target finds it from the catalog). The
tables themselves: tests/integration/test_workbook_tables_flow.py."""

import json
from typing import Any

import pytest

from datalake_shared.workbook_tables import DATASET_PARAMETER
from dev.demo.excel import CLEANING_SPECS
from dev.demo.run import EXAMPLE_CONFIG
from dev.runtime import project_runtime
from local_runtime.intrinsics import ACCOUNT_ID
from local_runtime.runtime import LOCAL_REGION
from tests.integration.test_workbook_tables_flow import load_config, upload_orders

pytestmark = pytest.mark.dynamodb_incidental

ANALYST = f"arn:aws:quicksight:{LOCAL_REGION}:{ACCOUNT_ID}:user/default/analyst"


def test_with_quicksight_each_cleaned_workbook_refreshes_the_tables_dataset() -> None:
    # Given QuickSight on (a principal), and the sample config loaded
    parameters = {
        "WorkbookCleaningSpecs": json.dumps(CLEANING_SPECS),
        "QuickSightPrincipalArn": ANALYST,
    }
    with project_runtime(parameters=parameters) as runtime:
        summary = load_config(runtime, "config/pipeline.yaml", EXAMPLE_CONFIG.read_bytes())
        # Then the orders table has its SPICE dataset, owned by the principal
        dataset = f"{runtime.stack.name}-workbook-orders"
        assert summary["reconciled"]["workbook_tables"]["datasets"]["created"] == [dataset]
        quicksight: Any = runtime.client("quicksight")
        permissions = quicksight.describe_data_set_permissions(
            AwsAccountId=ACCOUNT_ID, DataSetId=dataset
        )["Permissions"]
        assert [permission["Principal"] for permission in permissions] == [ANALYST]
        # And the table names it, now that it exists (what spice_target maps)
        table = runtime.client("glue").get_table(
            DatabaseName=runtime.outputs["LakeDatabaseName"], Name="workbook_orders"
        )["Table"]
        assert table["Parameters"][DATASET_PARAMETER] == dataset
        # When an order workbook is cleaned under the table's prefix (SpiceDatasets maps none)
        upload_orders(runtime)
        # Then each cleaned workbook refreshed the table's dataset
        refreshed = {
            (key[1], ingestion.status)
            for key, ingestion in runtime.quicksight_bridge.ingestions.items()
        }
        assert refreshed == {(dataset, "COMPLETED")}
        assert len(runtime.quicksight_bridge.ingestions) == 2
