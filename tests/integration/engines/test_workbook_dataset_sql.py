"""The query a workbook table's QuickSight dataset sends Athena, parsed strictly (sqlglot's trino
dialect): one SELECT of every column in the table's order, under its own name, reserved words
included, dates and date-times typed."""

from typing import Any

from sqlglot import exp

from datalake_shared.workbook_datasets import select_statement
from datalake_shared.workbook_tables import WorkbookTable
from tests.integration.engines.athena_strict import parse_one

# A cleaned header "Order" becomes the column "order", one of Trino's reserved words.
COLUMNS: list[dict[str, Any]] = [
    {"name": "order", "type": "string"},
    {"name": "date", "type": "date"},
    {"name": "shipped_at", "type": "datetime"},
    {"name": "units", "type": "integer"},
    {"name": "revenue", "type": "number"},
    {"name": "paid", "type": "boolean"},
]


def test_the_dataset_query_selects_every_column_typed_from_the_table() -> None:
    # Given a table with a column of each type, one named with a reserved word
    table = WorkbookTable.model_validate(
        {"name": "orders", "prefix": "incoming/orders/", "columns": COLUMNS}
    )
    # When its dataset's query is parsed strictly
    query = parse_one(select_statement(table, "lake_db"), exp.Select)
    # Then it reads the table of the lake database...
    source = query.args["from_"].this
    assert (source.catalog, source.db, source.name) == ("", "lake_db", "workbook_orders")
    # ...and selects each column under its name, in order, dates and date-times cast
    assert query.named_selects == [column["name"] for column in COLUMNS]
    casts = {select.alias: select.this.to for select in query.selects if select.alias}
    assert {name: str(kind) for name, kind in casts.items()} == {
        "date": "DATE",
        "shipped_at": "TIMESTAMP",
    }
