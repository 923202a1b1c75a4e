"""The config models: what a table and a batch config may say, and what the file as a whole must."""

from typing import Any

import pytest
from config_loader_fakes import config_dict, table_dict
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from datalake_contracts.table_config import MAX_SOURCE_TABLE_LENGTH
from datalake_shared.pipeline_config import (
    MAX_STORED_CONFIG_BYTES,
    BatchConfig,
    ColumnConfig,
    PipelineConfig,
    TableConfig,
)

SIMPLE_TYPES = ["string", "int", "bigint", "double", "boolean", "date", "timestamp"]


def error_locations(error: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(detail["loc"]) for detail in error.errors()]


def test_valid_table_keeps_its_values_and_gets_the_defaults() -> None:
    # Given a table entry with only the required keys / When validated
    table = TableConfig.model_validate(table_dict())
    # Then the defaults are filled in
    assert (table.file_format, table.mode, table.partition_by, table.active) == (
        "csv",
        "current",
        [],
        True,
    )
    assert table.sequence_column_type == "timestamp"
    assert table.column_names == ["id", "amount", "day"]


def test_batch_config_defaults() -> None:
    # Given the required batch keys / When validated / Then G.1X with 2 workers
    batch = BatchConfig.model_validate(
        {"cadence": "hourly", "batch_size": 5, "max_parallel_batches": 1}
    )
    assert (batch.worker_type, batch.number_of_workers, batch.description) == ("G.1X", 2, "")


@pytest.mark.parametrize(
    ("spelled", "canonical"),
    [
        ("BIGINT", "bigint"),
        (" string ", "string"),
        ("DECIMAL(10, 2)", "decimal(10,2)"),
        ("decimal( 38 ,0 )", "decimal(38,0)"),
    ],
)
def test_column_types_are_stored_in_canonical_spelling(spelled: str, canonical: str) -> None:
    # Given a column type written loosely / When validated / Then consumers see one spelling
    assert ColumnConfig.model_validate({"name": "c", "type": spelled}).type == canonical


@pytest.mark.parametrize(
    "bad", ["varchar", "decimal(0,0)", "decimal(39,2)", "decimal(5,6)", "decimal(10)", ""]
)
def test_unknown_or_impossible_column_types_are_rejected(bad: str) -> None:
    # Given a type outside the list or a decimal out of range / Then it is rejected
    with pytest.raises(ValidationError, match=r"column type|decimal"):
        ColumnConfig.model_validate({"name": "c", "type": bad})


@given(
    precision=st.integers(min_value=1, max_value=38),
    data=st.data(),
)
def test_every_valid_decimal_is_accepted(precision: int, data: st.DataObject) -> None:
    # Given any decimal(p,s) with 1 <= p <= 38 and 0 <= s <= p
    scale = data.draw(st.integers(min_value=0, max_value=precision))
    # When validated / Then it is kept as written
    column = ColumnConfig.model_validate({"name": "c", "type": f"decimal({precision},{scale})"})
    assert column.type == f"decimal({precision},{scale})"


@pytest.mark.parametrize(
    "name", ["1st", "order id", "amount;drop", 'q"uote', "", "a-b", "_cdc_op", "_CDC_seq"]
)
def test_column_names_must_be_plain_identifiers(name: str) -> None:
    # Given a name that would need escaping in generated SQL / Then it is rejected
    with pytest.raises(ValidationError):
        ColumnConfig.model_validate({"name": name, "type": "string"})


def test_primary_key_outside_the_columns_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(primary_key=["order_id"]))
    assert error_locations(raised.value) == [("primary_key",)]
    assert "['order_id'] not among columns" in str(raised.value)


def test_primary_key_listing_a_column_twice_is_rejected() -> None:
    with pytest.raises(ValidationError, match="more than once"):
        TableConfig.model_validate(table_dict(primary_key=["id", "id"]))


def test_empty_primary_key_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(primary_key=[]))
    assert error_locations(raised.value) == [("primary_key",)]


def test_partition_columns_must_be_columns() -> None:
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(partition_by=["day", "month"]))
    assert error_locations(raised.value) == [("partition_by",)]


def test_sequence_column_must_not_be_a_data_column() -> None:
    # Given a sequence column also listed in columns (CDC files carry it before the data)
    with pytest.raises(ValidationError, match="declare it here only") as raised:
        TableConfig.model_validate(table_dict(sequence_column="amount"))
    # Then the sequence column is the problem
    assert error_locations(raised.value) == [("sequence_column",)]


@pytest.mark.parametrize("name", ["Op", "op", "OP"])
def test_op_is_reserved_for_the_operation_column(name: str) -> None:
    # Given "Op" as a data column or as the sequence column / Then both are rejected
    columns = [{"name": name, "type": "string"}, {"name": "id", "type": "bigint"}]
    with pytest.raises(ValidationError, match="operation column") as raised:
        TableConfig.model_validate(table_dict(columns=columns, sequence_column=name))
    assert set(error_locations(raised.value)) == {("columns",), ("sequence_column",)}


def test_column_names_are_unique_ignoring_case() -> None:
    columns = [{"name": "id", "type": "bigint"}, {"name": "ID", "type": "string"}]
    with pytest.raises(ValidationError, match="duplicate column names"):
        TableConfig.model_validate(table_dict(columns=columns))


def test_boolean_cannot_be_the_sequence_type() -> None:
    with pytest.raises(ValidationError, match="cannot order"):
        TableConfig.model_validate(table_dict(sequence_column_type="boolean"))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("source_table", "orders"),
        ("source_table", "sales.orders.x"),
        ("target_database", "Sales"),
        ("target_table", "orders-2026"),
        ("cadence", "Hourly"),
        ("mode", "upsert"),
        ("file_format", "json"),
    ],
)
def test_names_and_choices_are_checked(key: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(**{key: value}))
    assert error_locations(raised.value) == [(key,)]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("batch_size", 0),
        ("batch_size", 201),
        ("max_parallel_batches", 51),
        ("number_of_workers", 1),
    ],
)
def test_batch_limits(key: str, value: int) -> None:
    batch = {"cadence": "hourly", "batch_size": 2, "max_parallel_batches": 2, key: value}
    with pytest.raises(ValidationError) as raised:
        BatchConfig.model_validate(batch)
    assert error_locations(raised.value) == [(key,)]


@pytest.mark.parametrize(
    ("key", "value"), [("batch_size", "2"), ("batch_size", 2.5), ("max_parallel_batches", True)]
)
def test_numbers_are_not_coerced_from_strings_floats_or_booleans(key: str, value: Any) -> None:
    batch = {"cadence": "hourly", "batch_size": 2, "max_parallel_batches": 2, key: value}
    with pytest.raises(ValidationError):
        BatchConfig.model_validate(batch)


def test_active_must_be_a_boolean() -> None:
    with pytest.raises(ValidationError):
        TableConfig.model_validate(table_dict(active="no"))


def test_unknown_keys_are_rejected() -> None:
    # Given a typo in a key / Then it is an error, not silently ignored
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(primay_key=["id"]))
    assert error_locations(raised.value) == [("primay_key",)]


def test_models_are_frozen() -> None:
    table = TableConfig.model_validate(table_dict())
    with pytest.raises(ValidationError):
        table.active = False  # type: ignore[misc]


def test_file_with_a_table_of_an_unconfigured_cadence_is_rejected() -> None:
    data = config_dict([table_dict(cadence="weekly")], cadences=["hourly"])
    with pytest.raises(ValidationError, match="no batch config for cadence 'weekly'"):
        PipelineConfig.model_validate(data)


def test_file_with_a_table_in_two_cadences_is_rejected() -> None:
    data = config_dict(
        [table_dict(cadence="hourly"), table_dict(cadence="daily", target_table="orders_daily")],
        cadences=["hourly", "daily"],
    )
    with pytest.raises(ValidationError, match="already belongs to cadence 'hourly'"):
        PipelineConfig.model_validate(data)


def test_file_with_two_tables_writing_one_target_is_rejected() -> None:
    # Given two source tables merging into sales.orders
    data = config_dict(
        [table_dict("sales.orders"), table_dict("crm.orders", target_database="sales")]
    )
    with pytest.raises(ValidationError, match=r"sales\.orders is already the target"):
        PipelineConfig.model_validate(data)


def test_file_with_a_cadence_configured_twice_is_rejected() -> None:
    data = config_dict([], cadences=["hourly", "hourly"])
    with pytest.raises(ValidationError, match="configured twice"):
        PipelineConfig.model_validate(data)


def test_file_needs_at_least_one_batch_config() -> None:
    with pytest.raises(ValidationError):
        PipelineConfig.model_validate({"batches": [], "tables": []})


def test_batch_lookup_by_cadence() -> None:
    config = PipelineConfig.model_validate(config_dict([], cadences=["hourly", "daily"]))
    assert config.batch("daily") is not None
    assert config.batch("weekly") is None


# --------------------------------------------------------------- property-based

_names = st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True)
_types = st.one_of(
    st.sampled_from(SIMPLE_TYPES),
    st.integers(1, 38).flatmap(lambda p: st.integers(0, p).map(lambda s: f"decimal({p},{s})")),
)


@st.composite
def table_entries(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid table entry: distinct columns, a primary key and partitions among them."""
    names = draw(
        st.lists(_names, min_size=1, max_size=12, unique_by=str.casefold).filter(
            lambda ns: "op" not in ns and "seq" not in ns
        )
    )
    columns = [{"name": name, "type": draw(_types)} for name in names]
    key = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    partitions = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    return table_dict(
        columns=columns,
        primary_key=key,
        partition_by=partitions,
        sequence_column="seq",
        sequence_column_type=draw(st.sampled_from(["timestamp", "string", "bigint"])),
        mode=draw(st.sampled_from(["current", "history"])),
        file_format=draw(st.sampled_from(["csv", "parquet"])),
        active=draw(st.booleans()),
    )


@given(entry=table_entries())
def test_any_valid_table_survives_the_stored_json_round_trip(entry: dict[str, Any]) -> None:
    # Given any valid table entry / When validated, stored as JSON and read back
    table = TableConfig.model_validate(entry)
    again = TableConfig.model_validate_json(table.model_dump_json())
    # Then nothing changed, and the columns kept their file order
    assert again == table
    assert again.column_names == [column["name"] for column in entry["columns"]]


@given(entry=table_entries(), unknown=_names.filter(lambda name: name != "seq"))
def test_a_primary_key_column_that_is_not_a_column_is_always_caught(
    entry: dict[str, Any], unknown: str
) -> None:
    # Given a valid entry whose primary key gains a name that is not a column
    columns = {column["name"] for column in entry["columns"]}
    if unknown in columns:
        return
    entry["primary_key"] = [*entry["primary_key"], unknown]
    # When validated / Then exactly the primary key is reported
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(entry)
    assert error_locations(raised.value) == [("primary_key",)]


def test_a_source_table_may_be_as_long_as_the_config_tables_sort_key() -> None:
    # Given a name of exactly 1,024 characters / When validated / Then it is taken
    name = "s." + "t" * (MAX_SOURCE_TABLE_LENGTH - 2)
    assert TableConfig.model_validate(table_dict(name, target_table="t")).source_table == name


def test_a_source_table_longer_than_the_sort_key_is_refused() -> None:
    # Given a name one character over DynamoDB's 1,024-byte sort key
    name = "s." + "t" * (MAX_SOURCE_TABLE_LENGTH - 1)
    # When validated / Then source_table is the problem
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(name, target_table="t"))
    assert error_locations(raised.value) == [("source_table",)]


def test_a_table_too_large_for_one_dynamodb_item_is_refused_as_a_whole() -> None:
    # Given a table of 1,600 columns of 250-character names (~450 KB as stored)
    columns = [{"name": f"{'c' * 245}{n:05d}", "type": "string"} for n in range(1600)]
    columns[0] = {"name": "id", "type": "bigint"}
    # When validated / Then the table itself is the problem, with the limit and what to do
    with pytest.raises(ValidationError) as raised:
        TableConfig.model_validate(table_dict(columns=columns))
    assert error_locations(raised.value) == [()]
    message = raised.value.errors()[0]["msg"]
    assert "400 KB" in message
    assert "fewer or shorter columns" in message


def test_a_batch_config_too_large_for_one_dynamodb_item_is_refused() -> None:
    # Given a batch config whose description alone is over the stored limit
    batch = {
        "cadence": "hourly",
        "batch_size": 2,
        "max_parallel_batches": 2,
        "description": "d" * MAX_STORED_CONFIG_BYTES,
    }
    # When validated / Then it is refused, pointing at the description
    with pytest.raises(ValidationError, match="shorten its description"):
        BatchConfig.model_validate(batch)


def test_a_config_at_the_stored_limit_is_taken() -> None:
    # Given a batch config whose JSON is exactly the stored limit
    base = BatchConfig.model_validate({"cadence": "1h", "batch_size": 1, "max_parallel_batches": 1})
    room = MAX_STORED_CONFIG_BYTES - len(base.model_dump_json())
    # When validated with a description filling the room / Then it is taken
    batch = BatchConfig.model_validate({**base.model_dump(), "description": "d" * room})
    assert len(batch.model_dump_json()) == MAX_STORED_CONFIG_BYTES
