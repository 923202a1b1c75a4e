"""The file tracker's item layout (datalake_contracts.file_tracker_item) against what writes and
reads it: template.yaml's FileTrackerTable, the file tracker's TrackedFile (each field is an
attribute of the item) and the Glue job's PendingFile."""

import dataclasses
from typing import Any

import pytest

from cdc_merge.file_tracker import PendingFile
from datalake_contracts import file_tracker_item as item_layout
from file_tracker.service import TrackedFile


def _keys(schema: list[dict[str, str]]) -> tuple[str, str]:
    by_type = {key["KeyType"]: key["AttributeName"] for key in schema}
    return by_type["HASH"], by_type["RANGE"]


def test_the_template_declares_the_table_and_its_index_as_the_contract_says(
    sam_template: dict[str, Any],
) -> None:
    # Given FileTrackerTable as template.yaml declares it
    table = sam_template["Resources"]["FileTrackerTable"]["Properties"]
    [index] = table["GlobalSecondaryIndexes"]
    # Then its keys, its index's name and keys, and the index's projection are the contract's
    assert _keys(table["KeySchema"]) == (item_layout.SOURCE_TABLE, item_layout.FILE_ID)
    assert index["IndexName"] == item_layout.PENDING_INDEX
    assert _keys(index["KeySchema"]) == (item_layout.PENDING_STATUS, item_layout.PENDING_ORDER)
    assert set(item_layout.PENDING_INDEX_ATTRIBUTES) <= set(index["Projection"]["NonKeyAttributes"])


def test_the_file_tracker_writes_every_attribute_the_readers_read() -> None:
    # Given the attributes the batch planner and the Glue job read / Then the file tracker's
    # item has each (TrackedFile's fields are the item's attributes)
    written = {field.name for field in dataclasses.fields(TrackedFile)}
    read = {
        item_layout.SOURCE_TABLE,
        item_layout.FILE_ID,
        item_layout.STATUS,
        *item_layout.PENDING_INDEX_ATTRIBUTES,
    }
    assert read <= written


def test_the_jobs_pending_file_is_made_of_item_attributes() -> None:
    fields = {field.name for field in dataclasses.fields(PendingFile)}
    assert fields == {
        item_layout.SOURCE_TABLE,
        item_layout.FILE_ID,
        *item_layout.PENDING_INDEX_ATTRIBUTES,
    }


@pytest.mark.parametrize(
    ("source_table", "expected"),
    [
        ("sales.orders", "sales.orders#2026-11-22T10:15:00Z#" + "f" * 32),
        ("a#b.c", "a#b.c#2026-11-22T10:15:00Z#" + "f" * 32),
    ],
)
def test_pending_order_is_table_then_event_time_then_file_id(
    source_table: str, expected: str
) -> None:
    order = item_layout.pending_order(source_table, "2026-11-22T10:15:00Z", "f" * 32)
    assert order == expected
    assert order.startswith(item_layout.pending_order_prefix(source_table))


def test_the_longest_pending_order_fits_the_sort_key() -> None:
    # Given a table name longer than any sort key / Then its pending_order still fits
    order = item_layout.pending_order("s." + "t" * 2046, "2026-11-22T10:15:00Z", "f" * 32)
    assert len(order.encode()) == item_layout.MAX_SORT_KEY_BYTES
