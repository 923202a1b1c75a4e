"""The lake on DuckDB: one connection to the DuckDB file (attached under Athena's catalog name),
the Glue tables of a database, and each Iceberg table as a DuckDB table, created on first use
and given the columns its Glue table gains later.

The engine (engine.py) runs statements on it; external tables (external.py) are views on it.
"""

import datetime
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
from botocore.exceptions import ClientError

from local_runtime.engines.athena.catalog import CATALOG, CatalogTable
from local_runtime.engines.athena.glue_types import quote_identifier, quote_literal
from local_runtime.engines.athena.outcomes import AthenaQueryError, MaintenanceRun
from local_runtime.lifecycle import Closeable

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client


class LakeTables(Closeable):
    """The DuckDB file ``database_path`` with the Glue catalog's tables (``glue``, ``s3``:
    boto3 clients); external tables' objects are copied under ``data_dir`` (default:
    ``athena-data`` beside the database file)."""

    def __init__(
        self,
        database_path: str | Path,
        glue: "GlueClient",
        s3: "S3Client",
        data_dir: Path | None = None,
    ) -> None:
        self.database_path = Path(database_path)
        self.data_dir = data_dir or self.database_path.parent / "athena-data"
        self._glue = glue
        self._s3 = s3
        self._lock = threading.RLock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self.statements: list[str] = []  # every statement run on DuckDB, in order
        self.maintenance: list[MaintenanceRun] = []
        # ALTER TABLE ... SET TBLPROPERTIES of Iceberg tables: (database, table) -> properties
        # (Athena keeps them in the Iceberg metadata, not in Glue).
        self.table_properties: dict[tuple[str, str], dict[str, str]] = {}
        self.now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            self.database_path.parent.mkdir(parents=True, exist_ok=True)
            connection = duckdb.connect()
            connection.execute(
                f"ATTACH {quote_literal(str(self.database_path))} AS {quote_identifier(CATALOG)}"
            )
            connection.execute("SET TimeZone = 'UTC'")  # Athena's session time zone
            connection.execute(f"USE {quote_identifier(CATALOG)}")
            self._connection = connection
        return self._connection

    # ------------------------------------------------------------------ catalog → DuckDB
    def _catalog(self, database: str) -> dict[str, CatalogTable]:
        """The Glue tables of a database (SCHEMA_NOT_FOUND if there is no such database)."""
        try:
            self._glue.get_database(Name=database)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                raise AthenaQueryError(
                    "SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist"
                ) from error
            raise
        tables: dict[str, CatalogTable] = {}
        for page in self._glue.get_paginator("get_tables").paginate(DatabaseName=database):
            for glue_table in page["TableList"]:
                table = CatalogTable.from_glue(glue_table)
                tables[table.name] = table
        return tables

    def _use(self, database: str | None) -> None:
        schema = database if database and self._schema_exists(database) else "main"
        self.connection.execute(f"USE {quote_identifier(CATALOG)}.{quote_identifier(schema)}")

    def _schema_exists(self, database: str) -> bool:
        rows = self.connection.execute(
            "SELECT 1 FROM duckdb_schemas() WHERE database_name = $catalog "
            "AND schema_name = $schema",
            {"catalog": CATALOG, "schema": database},
        ).fetchall()
        return bool(rows)

    def _ensure_schema(self, database: str) -> None:
        self.connection.execute(
            f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(CATALOG)}.{quote_identifier(database)}"
        )

    def _existing(self, table: CatalogTable) -> tuple[str | None, list[str]]:
        """("table" | "view" | None, its column names) of the DuckDB object for a Glue table."""
        names = {"catalog": CATALOG, "schema": table.database, "table": table.name}
        kinds = self.connection.execute(
            "SELECT 'table' FROM duckdb_tables() WHERE database_name = $catalog AND "
            "schema_name = $schema AND table_name = $table UNION ALL SELECT 'view' FROM "
            "duckdb_views() WHERE database_name = $catalog AND schema_name = $schema AND "
            "view_name = $table",
            names,
        ).fetchall()
        columns = self.connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = $catalog AND "
            "schema_name = $schema AND table_name = $table ORDER BY column_index",
            names,
        ).fetchall()
        return (str(kinds[0][0]) if kinds else None), [str(c[0]).lower() for c in columns]

    def _materialise_iceberg(self, table: CatalogTable) -> None:
        """The DuckDB table of an Iceberg table: created once, then given new Glue columns."""
        self._ensure_schema(table.database)
        wanted = [*table.columns, *table.partition_keys]
        kind, existing = self._existing(table)
        if kind == "view":
            self._statement(f"DROP VIEW {table.qualified}")
            kind = None
        if kind is None:
            columns = ", ".join(f"{quote_identifier(n)} {t.duckdb()}" for n, t in wanted)
            self._statement(f"CREATE TABLE IF NOT EXISTS {table.qualified} ({columns})")
            return
        for name, glue_type in wanted:
            if name not in existing:
                self._statement(
                    f"ALTER TABLE {table.qualified} ADD COLUMN {quote_identifier(name)} "
                    f"{glue_type.duckdb()}"
                )

    def _statement(self, sql: str) -> None:
        self.statements.append(sql)
        cursor = self.connection.execute(sql)
        if cursor.description:
            cursor.fetchall()
