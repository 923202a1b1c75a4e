"""TableSpec.from_dict: what a batch's table config must hold before any SQL is built from it, and
what it defaults to. A refused config fails its table (ValueError naming the field)."""

import re
from typing import Any

import pytest
from glue_merge_fakes import table_config

from cdc_merge.table_spec import Column, TableSpec


def without(config: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in keys}


def refused_fields(config: dict[str, Any]) -> str:
    with pytest.raises(ValueError, match="invalid table spec") as error:
        TableSpec.from_dict(config)
    return str(error.value)


def test_a_minimal_config_takes_the_contracts_defaults() -> None:
    # Given a config naming only what has no default
    config = without(
        table_config("sales.orders"),
        "sequence_column_type",
        "file_format",
        "mode",
        "full_load_layout",
        "partition_by",
    )
    # When parsed / Then the optional settings take their defaults
    spec = TableSpec.from_dict(config)
    assert (
        spec.sequence_column_type,
        spec.file_format,
        spec.mode,
        spec.full_load_layout,
        spec.partition_by,
    ) == ("timestamp", "csv", "current", "columns", ())
    assert spec.columns == (
        Column("order_id", "bigint"),
        Column("customer", "string"),
        Column("amount", "decimal(10,2)"),
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"file_format": "parquet"}, ("parquet", "current", "columns")),
        ({"mode": "history"}, ("csv", "history", "columns")),
        ({"full_load_layout": "sequence"}, ("csv", "current", "sequence")),
        ({"full_load_layout": "op_sequence"}, ("csv", "current", "op_sequence")),
    ],
)
def test_each_choice_is_kept_as_configured(
    settings: dict[str, str], expected: tuple[str, str, str]
) -> None:
    spec = TableSpec.from_dict({**table_config("sales.orders"), **settings})
    assert (spec.file_format, spec.mode, spec.full_load_layout) == expected


@pytest.mark.parametrize("database", ["Sales", "sales-db", "sales.db", "", "x" * 256, "s\n"])
def test_a_target_database_that_is_no_lowercase_glue_name_is_refused(database: str) -> None:
    config = {**table_config("sales.orders"), "target_database": database}
    assert "target_database" in refused_fields(config)


def test_a_target_database_of_the_longest_glue_name_is_taken() -> None:
    config = {**table_config("sales.orders"), "target_database": "x" * 255}
    assert TableSpec.from_dict(config).target_database == "x" * 255


@pytest.mark.parametrize("key", ["source_table", "target_database", "target_table", "columns"])
def test_a_config_without_a_required_field_is_refused(key: str) -> None:
    assert key in refused_fields(without(table_config("sales.orders"), key))


def test_a_config_without_a_sequence_column_is_refused() -> None:
    assert "sequence_column:" in refused_fields(
        without(table_config("sales.orders"), "sequence_column")
    )


@pytest.mark.parametrize("primary_key", [None, [], "order_id", [""], [7]])
def test_a_config_without_a_list_of_key_columns_is_refused(primary_key: object) -> None:
    # Given a config whose primary key is missing, empty, or not a list of names
    config = table_config("sales.orders")
    if primary_key is None:
        del config["primary_key"]
    else:
        config["primary_key"] = primary_key
    # When parsed / Then it is refused on its primary key (a MERGE needs one)
    assert "primary_key" in refused_fields(config)


def test_a_key_naming_a_column_twice_is_refused() -> None:
    config = table_config("sales.orders", primary_key=("order_id", "order_id"))
    assert "primary_key: names repeat" in refused_fields(config)


@pytest.mark.parametrize("partition_by", [["nope"], ["order_id", "order_id"], "order_id", [1]])
def test_partition_columns_must_be_distinct_columns(partition_by: object) -> None:
    config = {**table_config("sales.orders"), "partition_by": partition_by}
    assert "partition_by" in refused_fields(config)


@pytest.mark.parametrize(
    "columns",
    [[], "order_id", [{"name": "order_id"}], [{"type": "int"}], ["order_id"], [{"name": ""}]],
)
def test_columns_must_each_have_a_name_and_a_type(columns: object) -> None:
    config = {**table_config("sales.orders"), "columns": columns}
    assert re.search(r"columns(\[\d+\])?:", refused_fields(config))


@pytest.mark.parametrize(
    ("key", "value"),
    [("file_format", "json"), ("full_load_layout", "rows"), ("mode", ""), ("file_format", 1)],
)
def test_an_unknown_choice_is_refused(key: str, value: object) -> None:
    config = {**table_config("sales.orders"), key: value}
    assert f"{key}:" in refused_fields(config)


@pytest.mark.parametrize("sequence_type", ["money", ""])
def test_a_sequence_type_that_is_no_column_type_is_refused(sequence_type: str) -> None:
    config = table_config("sales.orders", sequence_column_type=sequence_type)
    assert "sequence_column_type" in refused_fields(config)
