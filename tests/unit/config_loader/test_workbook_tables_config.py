"""The pipeline config's workbook_tables: what a file may declare, and the Glue table each entry
becomes (an external CSV table over its clean-bucket prefix, types mapped for OpenCSVSerDe)."""

from typing import Any

import pytest
from config_loader_fakes import sample_config_text

from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.pipeline_config import PipelineConfig, parse_pipeline_config
from datalake_shared.workbook_csv import WorkbookColumnType
from datalake_shared.workbook_tables import (
    OWNER_PARAMETER,
    SERDE,
    WorkbookTable,
    dataset_id,
    differs,
    owned_table,
    table_input,
)

BATCHES = "batches:\n  - {cadence: hourly, batch_size: 1, max_parallel_batches: 1}\n"
ORDERS: dict[str, Any] = {
    "name": "orders",
    "prefix": "incoming/orders/",
    "columns": [
        {"name": "region", "type": "string"},
        {"name": "order_date", "type": "date"},
        {"name": "units", "type": "integer"},
        {"name": "revenue", "type": "number"},
        {"name": "paid", "type": "boolean"},
        {"name": "shipped_at", "type": "datetime"},
    ],
}


def config(*tables: dict[str, Any]) -> PipelineConfig:
    data: dict[str, Any] = {
        "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}],
        "workbook_tables": list(tables),
    }
    return PipelineConfig.model_validate(data)


def problems_of(*tables: dict[str, Any]) -> list[str]:
    lines = "".join(
        f"  - {{name: {t['name']}, prefix: {t['prefix']}, columns: {t['columns']}}}\n"
        for t in tables
    )
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(f"{BATCHES}workbook_tables:\n{lines}", "pipeline.yaml")
    return [str(problem) for problem in raised.value.problems]


def test_a_file_without_workbook_tables_leaves_them_unmentioned() -> None:
    # Given a file without the key / Then the section is None (not an empty list)
    assert parse_pipeline_config(BATCHES, "pipeline.yaml").workbook_tables is None


def test_a_declared_table_keeps_its_columns_in_order_with_their_types() -> None:
    # Given the orders table / When parsed
    [table] = config(ORDERS).workbook_tables or []
    # Then its Glue name has the prefix, and its columns keep the file's order and types
    assert table.glue_name == "workbook_orders"
    assert [(c.name, c.type) for c in table.columns][:3] == [
        ("region", WorkbookColumnType.STRING),
        ("order_date", WorkbookColumnType.DATE),
        ("units", WorkbookColumnType.INTEGER),
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("prefix", "incoming/orders", "must be a clean-bucket folder"),
        ("prefix", "/incoming/orders/", "must be a clean-bucket folder"),
        ("prefix", "incoming/_drafts/", "must be a clean-bucket folder"),
        ("prefix", "incoming//orders/", "must be a clean-bucket folder"),
        ("name", "Orders", "String should match pattern"),
        ("name", "order-lines", "String should match pattern"),
    ],
)
def test_names_and_prefixes_athena_could_not_read_are_refused(
    field: str, value: str, expected: str
) -> None:
    # Given a table with an unreadable name or prefix / Then the problem names the field
    [problem] = problems_of({**ORDERS, field: value})
    assert problem.startswith(f"workbook_tables[0].{field}: {expected}")


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ({"name": "Unit Price", "type": "number"}, "columns[1].name"),
        ({"name": "units", "type": "money"}, "columns[1].type"),
    ],
)
def test_columns_take_the_cleaners_names_and_types_only(
    column: dict[str, str], expected: str
) -> None:
    # Given a column named or typed as the cleaner never writes it / Then it is refused
    [problem] = problems_of({**ORDERS, "columns": [{"name": "region", "type": "string"}, column]})
    assert problem.startswith(f"workbook_tables[0].{expected}")


def test_a_column_listed_twice_is_refused() -> None:
    # Given a table listing "units" twice / Then the table is refused, naming the column
    columns = [*ORDERS["columns"], {"name": "units", "type": "integer"}]
    [problem] = problems_of({**ORDERS, "columns": columns})
    assert "columns listed twice: ['units']" in problem


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        ({**ORDERS, "prefix": "incoming/other/"}, "name repeated: ['orders']"),
        ({**ORDERS, "name": "other"}, "prefix repeated: ['incoming/orders/']"),
        (
            {**ORDERS, "name": "emea", "prefix": "incoming/orders/emea/"},
            "incoming/orders/emea/ is inside incoming/orders/",
        ),
    ],
)
def test_two_tables_never_share_a_name_or_read_each_others_csvs(
    second: dict[str, Any], expected: str
) -> None:
    # Given two tables with one name, one prefix, or one prefix inside the other
    [problem] = problems_of(ORDERS, second)
    # Then the section is refused, saying which
    assert problem.startswith("workbook_tables: ")
    assert expected in problem


def test_the_glue_table_is_an_external_csv_table_over_the_prefix() -> None:
    # Given the orders table / When laid out for the stack "lake"
    [table] = config(ORDERS).workbook_tables or []
    wanted = table_input(table, "clean-bucket", "lake")
    storage = wanted["StorageDescriptor"]
    # Then it reads every CSV under the prefix, after each file's header row, with OpenCSVSerDe
    assert storage["Location"] == "s3://clean-bucket/incoming/orders/"
    assert storage["SerdeInfo"] == {
        "SerializationLibrary": SERDE,
        "Parameters": {"separatorChar": ",", "quoteChar": '"'},
    }
    assert wanted["TableType"] == "EXTERNAL_TABLE"
    assert wanted["Parameters"]["skip.header.line.count"] == "1"
    # And an empty field of a typed column reads as NULL, not as a failed query
    assert wanted["Parameters"]["use.null.for.invalid.data"] == "true"
    # And it carries the stack's name, the mark of the tables the stack's loader owns
    assert wanted["Parameters"][OWNER_PARAMETER] == "lake"


def test_types_map_to_what_opencsvserde_reads_and_dates_say_how_to_cast_them() -> None:
    # Given the orders table / When laid out
    [table] = config(ORDERS).workbook_tables or []
    columns = table_input(table, "b", "lake")["StorageDescriptor"]["Columns"]
    # Then numbers and booleans are typed, dates and date-times stay text
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("region", "string"),
        ("order_date", "string"),
        ("units", "bigint"),
        ("revenue", "double"),
        ("paid", "boolean"),
        ("shipped_at", "string"),
    ]
    # And the catalog says how to read a date and a date-time as one
    comments = {c["Name"]: c["Comment"] for c in columns}
    assert """CAST(NULLIF("order_date", '') AS date)""" in comments["order_date"]
    assert """from_iso8601_timestamp(NULLIF("shipped_at", ''))""" in comments["shipped_at"]


def test_a_table_read_back_as_laid_out_does_not_differ() -> None:
    # Given the table as Glue returns it (with fields of its own)
    [table] = config(ORDERS).workbook_tables or []
    wanted = table_input(table, "b", "lake")
    read = {**wanted, "DatabaseName": "lake", "CreateTime": "now", "VersionId": "1"}
    # Then it is as wanted; and with a column retyped, it differs
    assert not differs(read, wanted)
    retyped = {**ORDERS, "columns": [{"name": "region", "type": "integer"}]}
    [other] = config(retyped).workbook_tables or []
    assert differs(read, table_input(other, "b", "lake"))


def test_only_the_stacks_workbook_tables_are_its_own() -> None:
    # Given the orders table laid out for "lake", as read from Glue
    [table] = config(ORDERS).workbook_tables or []
    read = table_input(table, "clean-bucket", "lake")
    # Then it is lake's, with its name and prefix; not another stack's; nor is a plain table
    owned = owned_table(read, "lake")
    assert owned is not None
    assert (owned.name, owned.prefix) == ("orders", "incoming/orders/")
    assert owned_table(read, "lake-dev") is None
    assert owned_table({**read, "Name": "orders"}, "lake") is None


def test_the_dataset_id_is_the_stacks_with_the_name_dashed() -> None:
    assert dataset_id("lake", "orders_emea") == "lake-workbook-orders-emea"


def test_the_sample_config_declares_a_workbook_table() -> None:
    # Given config/pipeline.yaml / Then its workbook table parses
    tables = parse_pipeline_config(sample_config_text(), "pipeline.yaml").workbook_tables
    assert [table.name for table in tables or []] == ["orders"]
    assert isinstance((tables or [])[0], WorkbookTable)
