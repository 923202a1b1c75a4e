"""spice_target's fallback: a key SPICE_DATASETS does not map refreshes its workbook table's
dataset, found from the Glue tables the config loader marked with it (an unmarked table's
dataset does not exist yet: its workbooks are not mapped), read from the catalog as seldom as
a fresh answer allows."""

from typing import Any

import pytest
from botocore.exceptions import ClientError
from lambda_support import FakeLambdaContext, load_handler_module, load_sample_event
from pydantic import ValidationError

from datalake_shared.workbook_tables import OwnedTable
from spice_target.settings import SpiceTargetSettings
from spice_target.workbook_datasets import MAX_AGE_SECONDS, MISS_AGE_SECONDS, WorkbookDatasets

SALES = "incoming/sales/"
MAPPING = {SALES: "sales-dataset"}
ORDERS_KEY = "incoming/orders/2026-q3/_manifest.json"
FINANCE_KEY = "incoming/finance/2027/_manifest.json"


class FakeCatalog:
    """GlueWorkbookTables' reads: the stack's workbook tables, marked with their dataset or not
    (None), how often they were listed, and GetTables failing when told to."""

    owner = "lake"

    def __init__(self, tables: dict[str, tuple[str, str | None]]) -> None:
        self.tables = tables  # name -> (prefix, dataset id or None)
        self.listed = 0
        self.failing = False

    def owned(self) -> dict[str, tuple[OwnedTable, dict[str, Any]]]:
        self.listed += 1
        if self.failing:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetTables")
        return {
            f"workbook_{name}": (OwnedTable(name, f"workbook_{name}", prefix, dataset), {})
            for name, (prefix, dataset) in self.tables.items()
        }


def orders() -> FakeCatalog:
    return FakeCatalog({"orders": ("incoming/orders/", "lake-workbook-orders")})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def datasets(catalog: FakeCatalog, clock: Clock | None = None) -> WorkbookDatasets:
    return WorkbookDatasets(catalog, clock=clock or Clock())  # type: ignore[arg-type]


def invoke(key: str, catalog: FakeCatalog) -> Any:
    event = load_sample_event("spice_target", "mapped_csv.json")
    event["object"]["key"] = key
    handler = load_handler_module("spice_target").lambda_handler
    return handler(event, FakeLambdaContext(), mapping=MAPPING, workbook_datasets=datasets(catalog))


# ------------------------------------------------------------------------------ the lookup


def test_a_key_spice_datasets_does_not_map_refreshes_its_workbook_tables_dataset() -> None:
    # Given the workbook table "orders" over incoming/orders/, its dataset made
    # When a workbook cleaned under its prefix is resolved
    result = invoke(ORDERS_KEY, orders())
    # Then the table's dataset is refreshed
    assert result["dataset_id"] == "lake-workbook-orders"
    assert result["prefix"] == "incoming/orders/"


def test_a_table_whose_dataset_is_not_made_maps_nothing() -> None:
    # Given the orders table without its dataset's mark (QuickSight turned on since the last
    # config load, or its CreateDataSet failed)
    catalog = FakeCatalog({"orders": ("incoming/orders/", None)})
    # When one of its workbooks is resolved / Then no dataset is refreshed (no failed run)
    assert invoke(ORDERS_KEY, catalog)["dataset_id"] is None


def test_spice_datasets_wins_over_a_workbook_table() -> None:
    # Given a workbook table over the sales prefix SPICE_DATASETS maps too
    catalog = FakeCatalog({"sales": (SALES, "lake-workbook-sales")})
    # When a sales workbook is resolved / Then SPICE_DATASETS's dataset, without reading Glue
    result = invoke("incoming/sales/q3/_manifest.json", catalog)
    assert result["dataset_id"] == "sales-dataset"
    assert catalog.listed == 0


def test_a_key_under_no_table_has_no_dataset() -> None:
    assert invoke("incoming/hr/staff/_manifest.json", orders())["dataset_id"] is None


# ------------------------------------------------------------------------------ the cache


def test_a_mapped_key_is_answered_from_the_catalog_read_within_the_minute() -> None:
    # Given the tables read at t=0
    catalog, clock = orders(), Clock()
    found = datasets(catalog, clock)
    found.mapping_for(ORDERS_KEY)
    # When the key is looked up again just before the minute / Then the catalog is not listed
    clock.now = MAX_AGE_SECONDS - 0.1
    assert found.mapping_for(ORDERS_KEY) == {"incoming/orders/": "lake-workbook-orders"}
    assert catalog.listed == 1
    # When the minute is over / Then it is listed again
    clock.now = MAX_AGE_SECONDS
    found.mapping_for(ORDERS_KEY)
    assert catalog.listed == 2


def test_an_unmapped_key_reads_the_catalog_again_after_a_few_seconds() -> None:
    # Given the tables read at t=0, before the finance table and its dataset were made
    catalog, clock = orders(), Clock()
    found = datasets(catalog, clock)
    found.mapping_for(ORDERS_KEY)
    catalog.tables["budget"] = ("incoming/finance/", "lake-workbook-budget")
    # When a finance workbook arrives within the few seconds / Then the copy is used
    clock.now = MISS_AGE_SECONDS - 0.1
    assert "incoming/finance/" not in found.mapping_for(FINANCE_KEY)
    assert catalog.listed == 1
    # When it arrives after them / Then the catalog is read again, and the table found
    clock.now = MISS_AGE_SECONDS
    assert found.mapping_for(FINANCE_KEY)["incoming/finance/"] == "lake-workbook-budget"
    assert catalog.listed == 2


def test_a_failed_read_falls_back_on_the_copy_read_before(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the tables read at t=0, then GetTables failing
    catalog, clock = orders(), Clock()
    found = datasets(catalog, clock)
    found.mapping_for(ORDERS_KEY)
    catalog.failing = True
    # When the copy is too old / Then it is still used, saying so, and the next lookup tries
    # the catalog again
    clock.now = MAX_AGE_SECONDS + 1
    assert found.mapping_for(ORDERS_KEY) == {"incoming/orders/": "lake-workbook-orders"}
    assert "GetTables failed" in caplog.text
    found.mapping_for(ORDERS_KEY)
    assert catalog.listed == 3


def test_a_failed_first_read_is_raised() -> None:
    # Given GetTables failing before anything was read / Then the error is raised (retried)
    catalog = orders()
    catalog.failing = True
    with pytest.raises(ClientError, match="ThrottlingException"):
        datasets(catalog).mapping_for(ORDERS_KEY)


# ------------------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "missing", ["WORKBOOK_TABLE_DATABASE", "WORKBOOK_TABLE_OWNER"], ids=["database", "owner"]
)
def test_workbook_datasets_without_where_the_tables_are_is_refused(missing: str) -> None:
    environment = {
        "WORKBOOK_DATASETS": "true",
        "WORKBOOK_TABLE_DATABASE": "lake_db",
        "WORKBOOK_TABLE_OWNER": "lake",
    }
    with pytest.raises(ValidationError, match=missing):
        SpiceTargetSettings.model_validate({**environment, missing: ""})


def test_workbook_datasets_off_needs_no_database() -> None:
    assert not SpiceTargetSettings.model_validate({"WORKBOOK_DATASETS": "false"}).workbook_datasets
