import copy

import botocore.session
from catalog_type_fixer_fakes import (
    TABLE_INPUT_MEMBERS,
    column_types,
    crawled_table,
    iceberg_table,
    parquet_table,
)

from catalog_type_fixer.service import (
    fixed_table_input,
    refusal_reason,
    skip_reason,
)
from datalake_shared.glue_types import TABLE_INPUT_KEYS

GLUE = botocore.session.get_session().get_service_model("glue")
FIXED_TYPES = {
    "session_id": "string",
    "started_at": "bigint",
    "tags": "array<string>",
    "page_ids": "array<bigint>",
    "device": "struct<tags:array<string>,n:bigint>",
    "experiments": "map<string,array<string>>",
    "offset": "struct<offset:bigint,asset:string,set:boolean>",
}


def test_kept_keys_are_members_of_botocores_table_input() -> None:
    # Given botocore's Glue model / Then every key the fixer passes back is a TableInput member
    assert set(TABLE_INPUT_KEYS) <= TABLE_INPUT_MEMBERS


def test_kept_keys_have_the_same_shape_in_table_and_table_input() -> None:
    # Given the Table (GetTable) and TableInput (UpdateTable) shapes of botocore's Glue model
    table = GLUE.shape_for("Table").members
    table_input = GLUE.shape_for("TableInput").members
    # Then each kept key can be copied as it is: both name the same shape
    assert {key: table[key].name for key in TABLE_INPUT_KEYS} == {
        key: table_input[key].name for key in TABLE_INPUT_KEYS
    }


def test_only_keys_table_input_cannot_take_or_that_differ_in_shape_are_dropped() -> None:
    # Given the members of Table that are also TableInput members
    shared = set(GLUE.shape_for("Table").members) & TABLE_INPUT_MEMBERS
    # Then the fixer keeps all of them but the federated and view definitions
    assert shared - set(TABLE_INPUT_KEYS) == {"FederatedTable", "ViewDefinition"}


def test_crawled_table_input_holds_arrays_for_every_set() -> None:
    # Given the GetTable Table of a DynamoDB table crawled by Glue
    table = crawled_table()
    # When its TableInput is built
    table_input = fixed_table_input(table)
    # Then its columns have arrays where the crawler wrote sets
    assert table_input is not None
    assert column_types(table_input) == FIXED_TYPES  # type: ignore[arg-type]


def test_crawled_table_input_keeps_everything_but_column_types() -> None:
    # Given the crawled table
    table = crawled_table()
    # When its TableInput is built
    table_input = dict(fixed_table_input(table) or {})
    # Then, column types aside, it is the table's TableInput keys as they were
    descriptor = table_input.pop("StorageDescriptor")
    expected = {key: value for key, value in table.items() if key in TABLE_INPUT_MEMBERS}
    expected_descriptor = expected.pop("StorageDescriptor")
    assert table_input == expected
    assert {k: v for k, v in descriptor.items() if k != "Columns"} == {
        k: v for k, v in expected_descriptor.items() if k != "Columns"
    }
    assert [{k: v for k, v in c.items() if k != "Type"} for c in descriptor["Columns"]] == [
        {k: v for k, v in c.items() if k != "Type"} for c in expected_descriptor["Columns"]
    ]


def test_read_only_keys_of_get_table_are_dropped() -> None:
    # Given the crawled table / When its TableInput is built
    table_input = fixed_table_input(crawled_table()) or {}
    # Then none of GetTable's read-only keys is in it
    assert set(table_input) == {
        "Name",
        "Owner",
        "LastAccessTime",
        "Retention",
        "StorageDescriptor",
        "PartitionKeys",
        "TableType",
        "Parameters",
    }


def test_building_the_input_leaves_the_table_untouched() -> None:
    # Given the crawled table and a copy of it
    table = crawled_table()
    before = copy.deepcopy(table)
    # When its TableInput is built / Then the table itself still has its sets
    fixed_table_input(table)
    assert table == before


def test_table_without_sets_needs_no_update() -> None:
    # Given a Parquet table whose struct fields are named "offset" / Then there is no input
    assert fixed_table_input(parquet_table()) is None


def test_table_already_fixed_needs_no_update() -> None:
    # Given the crawled table after a fix (what our own UpdateTable event finds)
    table = crawled_table()
    table["StorageDescriptor"]["Columns"] = fixed_table_input(table)["StorageDescriptor"]["Columns"]
    # Then there is nothing more to update
    assert fixed_table_input(table) is None


def test_sets_in_partition_keys_are_not_touched() -> None:
    # Given a table whose partition key (oddly) is typed as a set, with no set column
    table = parquet_table()
    table["PartitionKeys"][0]["Type"] = "set<string>"
    # Then the fixer leaves it: only StorageDescriptor columns are rewritten
    assert fixed_table_input(table) is None


def test_iceberg_tables_are_refused_by_table_type_in_any_case() -> None:
    # Given an Iceberg table whose table_type is written in lowercase, without metadata_location
    table = iceberg_table()
    table["Parameters"] = {"table_type": "iceberg"}
    # Then it is refused
    assert refusal_reason(table) == "an Iceberg table (table_type ICEBERG)"


def test_tables_with_a_metadata_location_are_refused() -> None:
    # Given a table with a metadata location but no table_type
    table = iceberg_table()
    del table["Parameters"]["table_type"]
    # Then it is refused
    assert "metadata_location" in refusal_reason(table)


def test_crawled_tables_are_not_refused() -> None:
    assert (refusal_reason(crawled_table()), skip_reason(crawled_table())) == ("", "")


def test_views_and_tables_without_columns_are_skipped() -> None:
    # Given a view and a table without a storage descriptor
    view = crawled_table() | {"TableType": "VIRTUAL_VIEW"}
    bare = {k: v for k, v in crawled_table().items() if k != "StorageDescriptor"}
    # Then both are skipped, saying why
    assert "view" in skip_reason(view)
    assert "without StorageDescriptor columns" in skip_reason(bare)
