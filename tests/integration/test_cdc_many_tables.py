"""N CDC tables by configuration: three DynamoDB tables of different schemas, named in an
uploaded config's cdc_tables, each applied by the one iceberg_cdc function to its own Iceberg
table (created from the config), through stream mappings the config loader made."""

from typing import Any

import pytest

from dev.demo.cdc import (
    CDC_SOURCES,
    cdc_tables_config,
    create_cdc_sources,
    upload_cdc_config,
    write_cdc_sources,
)
from dev.demo.support import athena_rows
from local_runtime import LocalRuntime
from local_runtime.bridges.dynamodb_backend import DYNAMODB_LOCAL, backend_name
from tests.integration.conftest import queue_depth

pytestmark = [
    pytest.mark.usefixtures("configured"),
    # moto's Lambda API accepts stream mappings of its own tables only, and tables created
    # after the deploy live on DynamoDB Local alone there.
    pytest.mark.skipif(
        backend_name() == DYNAMODB_LOCAL,
        reason="mappings created through moto's Lambda API need moto's own streams",
    ),
]


@pytest.fixture
def configured(runtime: LocalRuntime) -> LocalRuntime:
    """Given three source tables and a config naming them, uploaded and applied."""
    create_cdc_sources(runtime)
    upload_cdc_config(runtime, cdc_tables_config())
    return runtime


def mappings(runtime: LocalRuntime) -> dict[str, dict[str, Any]]:
    """iceberg_cdc's stream mappings by source table name, the template's own left out."""
    function = runtime.outputs["IcebergCdcFunctionName"]
    listed = runtime.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    by_table = {
        m["EventSourceArn"].split(":table/", 1)[1].split("/stream/", 1)[0]: m
        for m in listed
        if m["FunctionArn"].endswith(f":{function}")
    }
    by_table.pop(runtime.outputs["CdcSourceTableName"])
    return by_table


def rows(runtime: LocalRuntime, source_table: str) -> list[list[str]]:
    source = next(source for source in CDC_SOURCES if source.table == source_table)
    return athena_rows(runtime, source.query)[1]


def test_each_configured_table_gets_one_mapping_with_the_templates_settings(
    runtime: LocalRuntime,
) -> None:
    # Then each of the three streams is mapped to iceberg_cdc, as IcebergCdcSourceChanges is
    found = mappings(runtime)
    assert set(found) == {source.table for source in CDC_SOURCES}
    for source in CDC_SOURCES:
        mapping = found[source.table]
        assert mapping["StartingPosition"] == "TRIM_HORIZON"
        assert mapping["ParallelizationFactor"] == 1
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(
            runtime.outputs["CdcFailuresQueueUrl"].rsplit("/", 1)[-1]
        )
    # And applying the same file again changes nothing
    before = {name: m["UUID"] for name, m in mappings(runtime).items()}
    upload_cdc_config(runtime, cdc_tables_config())
    assert {name: m["UUID"] for name, m in mappings(runtime).items()} == before


def test_each_iceberg_table_holds_exactly_its_sources_final_rows(runtime: LocalRuntime) -> None:
    # When items are put, updated and deleted in the three tables
    write_cdc_sources(runtime)
    # Then each Iceberg table (created from the config) holds exactly the final state
    assert rows(runtime, "cdc-customers") == [
        ["c-1", "Ada", "[vip]", "2026-01-05"],
        ["c-2", "Bob O'Hara", "", "2026-02-01"],
    ]
    assert rows(runtime, "cdc-readings") == [
        ["1", "100", "21.50", "true"],
        ["1", "200", "23.75", "false"],
    ]
    assert rows(runtime, "cdc-carts") == [["k-1", "app", "Basel", "[]", "0.0"]]
    # And nothing failed on the way
    assert queue_depth(runtime, "CdcFailuresQueueUrl") == 0


def test_an_attribute_new_to_a_table_with_add_becomes_a_column(runtime: LocalRuntime) -> None:
    # When a cart arrives with an attribute its table has no column for (unknown_attributes: add)
    write_cdc_sources(runtime)
    # Then the column is added and holds the value
    assert athena_rows(runtime, "SELECT cart_id, coupon FROM carts")[1] == [["k-1", "NOV"]]


def test_a_table_made_inactive_loses_its_mapping_and_its_later_changes(
    runtime: LocalRuntime,
) -> None:
    # Given the readings applied
    write_cdc_sources(runtime)
    # When a config marks cdc-readings inactive
    upload_cdc_config(runtime, cdc_tables_config(inactive=("cdc-readings",)))
    # Then its mapping is gone and the other two stay
    assert set(mappings(runtime)) == {"cdc-customers", "cdc-carts"}
    # And a later change of it is not applied (it stays in the stream)
    runtime.dynamodb.put_item(
        TableName="cdc-readings",
        Item={"device_id": {"N": "9"}, "reading_ts": {"N": "1"}, "celsius": {"N": "1"}},
    )
    runtime.settle()
    assert [row[0] for row in rows(runtime, "cdc-readings")] == ["1", "1"]
