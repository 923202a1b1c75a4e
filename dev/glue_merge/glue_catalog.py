"""The Glue Data Catalog entries of the tables the local merge job wrote.

On AWS the job's Iceberg catalog is Glue's: creating a table creates its Glue table (with
``table_type = ICEBERG``), which Athena, and so the nightly maintenance run, then finds. The
DuckDB engine keeps its tables in ``lake.duckdb`` only, so after each run the missing ones are
registered in the runtime's Glue (moto) the same way: database, columns, location under the
job's ``--warehouse`` (Glue's Iceberg catalog puts a table at ``<warehouse><db>.db/<table>``).
The rows stay in ``lake.duckdb``: the local Athena sees the table's schema, not its rows.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient

# DuckDB's names for the contract's column types (datalake_contracts.table_config).
_GLUE_TYPES: Final = {
    "VARCHAR": "string",
    "INTEGER": "int",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
}
_DECIMAL: Final = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def glue_type(duckdb_type: str) -> str:
    """The Glue type of a DuckDB column type the merge job creates."""
    decimal = _DECIMAL.fullmatch(duckdb_type)
    if decimal:
        return f"decimal({decimal[1]},{decimal[2]})"
    try:
        return _GLUE_TYPES[duckdb_type]
    except KeyError:
        raise ValueError(f"no Glue type for the DuckDB type {duckdb_type!r}") from None


def lake_table_columns(lake: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(database, table) -> [(column, Glue type)] of every table in ``lake.duckdb``."""
    if not lake.is_file():
        return {}
    import duckdb  # noqa: PLC0415 - only when the DuckDB engine ran

    with duckdb.connect(str(lake), read_only=True) as connection:
        rows = connection.execute(
            "SELECT table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns WHERE table_catalog = 'lake' "
            "ORDER BY table_schema, table_name, ordinal_position"
        ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((str(schema), str(table)), []).append(
            (str(column), glue_type(str(data_type)))
        )
    return tables


def register_lake_tables(lake: Path, glue: "GlueClient", warehouse: str) -> list[str]:
    """Creates the Glue database and table of each lake table Glue does not know yet; returns
    the ``<database>.<table>`` names it created."""
    created: list[str] = []
    databases = {database["Name"] for database in glue.get_databases()["DatabaseList"]}
    for (database, table), columns in lake_table_columns(lake).items():
        if database not in databases:
            glue.create_database(DatabaseInput={"Name": database})
            databases.add(database)
        try:
            glue.get_table(DatabaseName=database, Name=table)
            continue
        except glue.exceptions.EntityNotFoundException:
            pass
        table_input: Any = {
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"table_type": "ICEBERG", "format": "parquet"},
            "StorageDescriptor": {
                "Columns": [{"Name": name, "Type": kind} for name, kind in columns],
                "Location": f"{warehouse.rstrip('/')}/{database}.db/{table}",
            },
        }
        glue.create_table(DatabaseName=database, TableInput=table_input)
        created.append(f"{database}.{table}")
    return created
