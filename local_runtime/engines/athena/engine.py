# ruff: noqa: S608 - statements are built from quoted identifiers and escaped literals only.
"""AthenaOnDuckDB: one Athena statement at a time, on the lake (tables.py, external.py).

The statement is read (statements.py), the tables it names are made ready from the Glue catalog,
it is transpiled to DuckDB (rewrite.py) and run; OPTIMIZE / VACUUM check the table and do
nothing (DuckDB has no files to compact), ALTER TABLE ... ADD COLUMNS updates the Glue table
and the DuckDB table, as Athena updates the catalog and the Iceberg schema, and ALTER TABLE ...
SET TBLPROPERTIES on an Iceberg table checks the keys against Athena's list and keeps them in
``table_properties`` (Athena writes them to the Iceberg metadata). A failure is an
outcome in Athena's terms (outcomes.py), not an exception.
"""

import contextlib
import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import sqlglot
from botocore.exceptions import ClientError
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from datalake_shared.glue_types import TABLE_INPUT_KEYS
from local_runtime.engines.athena.catalog import CATALOG, DEFAULT_DATABASE, CatalogTable
from local_runtime.engines.athena.create_table import parse_create_table
from local_runtime.engines.athena.external import ExternalTables
from local_runtime.engines.athena.glue_types import (
    GlueType,
    GlueTypeError,
    glue_type_from_sqlglot,
    quote_identifier,
)
from local_runtime.engines.athena.outcomes import (
    AthenaQueryError,
    MaintenanceRun,
    QueryOutcome,
    failure_of,
)
from local_runtime.engines.athena.results import athena_text, column_info
from local_runtime.engines.athena.rewrite import trino_to_duckdb
from local_runtime.engines.athena.statements import (
    Maintenance,
    TableRef,
    bind_parameters,
    first_keyword,
    parse_error,
    parse_maintenance,
    position,
    statement_type,
    table_offset,
)

# The Iceberg table properties Athena lets ALTER TABLE SET TBLPROPERTIES set (any other key fails).
ICEBERG_TABLE_PROPERTIES: Final = frozenset(
    {
        "format",
        "write_compression",
        "optimize_rewrite_data_file_threshold",
        "optimize_rewrite_delete_file_threshold",
        "vacuum_min_snapshots_to_keep",
        "vacuum_max_snapshot_age_seconds",
        "vacuum_max_metadata_files_to_keep",
        "write_target_data_file_size_bytes",
    }
)


@dataclass
class _Query:
    sql: str
    database: str | None
    first_keyword: str = ""


class AthenaOnDuckDB(ExternalTables):
    """Runs Athena (Trino) statements on DuckDB against the Glue catalog and S3 of moto.

    ``database_path`` is the DuckDB file holding the Iceberg tables; ``glue`` and ``s3`` are
    boto3 clients (moto's); external tables' objects are copied under ``data_dir`` (default:
    ``athena-data`` beside the database file) at each query that reads them.
    """

    # ------------------------------------------------------------------ public API
    def execute(
        self, sql: str, database: str | None = None, parameters: Sequence[str] | None = None
    ) -> QueryOutcome:
        """Runs one statement; ``database`` is QueryExecutionContext.Database."""
        query = _Query(sql=sql, database=database.lower() if database else None)
        started = time.monotonic()
        with self._lock:
            try:
                outcome = self._execute(query, parameters)
            except AthenaQueryError as failure:
                outcome = QueryOutcome(
                    state="FAILED",
                    statement_type=statement_type(query.first_keyword),
                    error=failure.error,
                )
            except (duckdb.Error, ClientError, OSError) as error:
                outcome = QueryOutcome(
                    state="FAILED",
                    statement_type=statement_type(query.first_keyword),
                    error=failure_of(error).error,
                    duckdb_sql=self.statements[-1] if self.statements else None,
                )
        elapsed = int((time.monotonic() - started) * 1000)
        return dataclasses.replace(outcome, engine_ms=elapsed)

    def table_rows(self, database: str, table: str) -> list[tuple[Any, ...]]:
        """Every row of a lake table as DuckDB returns it (for tests and the demo's report)."""
        with self._lock:
            cursor = self.connection.execute(
                f"SELECT * FROM {quote_identifier(CATALOG)}.{quote_identifier(database)}"
                f".{quote_identifier(table)}"
            )
            return cursor.fetchall()

    # ------------------------------------------------------------------ statements
    def _execute(self, query: _Query, parameters: Sequence[str] | None) -> QueryOutcome:
        keyword, rest_at = first_keyword(query.sql)
        query.first_keyword = keyword
        if keyword in ("OPTIMIZE", "VACUUM"):
            return self._maintain(query, parse_maintenance(keyword, query.sql[rest_at:]))
        if keyword == "ALTER":
            return self._alter(query)
        if keyword == "CREATE":
            return self._create_iceberg_table(query)
        try:
            trees = [t for t in sqlglot.parse(query.sql, read="trino") if t is not None]
        except ParseError as error:
            raise parse_error(error) from error
        except TokenError as error:
            raise AthenaQueryError("SYNTAX_ERROR", str(error)) from error
        if len(trees) != 1:
            raise AthenaQueryError(
                "INVALID_INPUT", f"Only one sql statement is allowed. Got: {query.sql.strip()}"
            )
        tree = trees[0]
        if parameters:
            tree = bind_parameters(tree, parameters)
        elif any(True for _ in tree.find_all(exp.Placeholder)):
            raise AthenaQueryError(
                "INVALID_PARAMETER_USAGE", "the query has ? parameters but no ExecutionParameters"
            )
        if isinstance(tree, exp.Query | exp.Values):
            return self._run(query, tree, returns_rows=True)
        if isinstance(tree, exp.Insert | exp.Merge | exp.Update | exp.Delete):
            return self._run(query, tree, returns_rows=False)
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            f"{keyword} statements are not supported by the local Athena stand-in "
            "(SELECT, WITH, INSERT, MERGE, UPDATE, DELETE, ALTER TABLE ADD COLUMNS, OPTIMIZE, "
            "VACUUM are)",
        )

    def _run(self, query: _Query, tree: exp.Expr, *, returns_rows: bool) -> QueryOutcome:
        tables = self._prepare(query, tree)
        if not returns_rows:
            self._check_writable(query, tree, tables)
        sql = trino_to_duckdb(tree)
        self._use(query.database)
        self.statements.append(sql)
        cursor = self.connection.execute(sql)
        description = cursor.description or []
        rows = cursor.fetchall()  # fetched in full before anything else runs
        if not returns_rows:
            count = int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
            return QueryOutcome("SUCCEEDED", "DML", update_count=count, duckdb_sql=sql)
        types = [column[1] for column in description]
        columns = tuple(column_info(str(c[0]), t) for c, t in zip(description, types, strict=True))
        formatted = tuple(
            tuple(athena_text(value, t) for value, t in zip(row, types, strict=True))
            for row in rows
        )
        return QueryOutcome("SUCCEEDED", "DML", columns=columns, rows=formatted, duckdb_sql=sql)

    def _check_writable(
        self, query: _Query, tree: exp.Expr, tables: Mapping[tuple[str, str], CatalogTable]
    ) -> None:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if not isinstance(target, exp.Table):
            return
        table = tables.get(
            ((target.db or query.database or DEFAULT_DATABASE).lower(), target.name.lower())
        )
        if table is None or table.is_iceberg:
            return
        if isinstance(tree, exp.Insert):
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"INSERT into the external table {table.database}.{table.name} is not supported by "
                "the local Athena stand-in (only Iceberg tables are written locally)",
            )
        raise AthenaQueryError(
            "NOT_SUPPORTED", "Modifying Hive table rows is only supported for transactional tables"
        )

    def _maintain(self, query: _Query, maintenance: Maintenance) -> QueryOutcome:
        ref = self._ref(query, maintenance.table)
        table = self._catalog(ref.database).get(ref.name)
        if table is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.athena_name}' does not exist")
        if not table.is_iceberg:
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                f"{maintenance.keyword} is only supported for Iceberg tables "
                f"({ref.athena_name} is not one)",
            )
        self._materialise_iceberg(table)
        self.maintenance.append(
            MaintenanceRun(maintenance.keyword, table.database, table.name, query.sql)
        )
        return QueryOutcome("SUCCEEDED", "DML", update_count=0)

    def _create_iceberg_table(self, query: _Query) -> QueryOutcome:
        """Athena's Iceberg CREATE TABLE: the Glue table, then its DuckDB table."""
        ddl = parse_create_table(query.sql)
        database = ddl.database or query.database or DEFAULT_DATABASE
        if ddl.name in self._catalog(database):
            if ddl.if_not_exists:
                return QueryOutcome("SUCCEEDED", "DDL")
            raise AthenaQueryError("TABLE_ALREADY_EXISTS", f"Table {database}.{ddl.name} exists")
        self._glue.create_table(DatabaseName=database, TableInput=ddl.table_input)  # type: ignore[arg-type]
        self._materialise_iceberg(self._catalog(database)[ddl.name])
        return QueryOutcome("SUCCEEDED", "DDL")

    def _alter(self, query: _Query) -> QueryOutcome:
        try:
            tree = sqlglot.parse_one(query.sql, read="hive")
        except (ParseError, TokenError) as error:
            raise AthenaQueryError("SYNTAX_ERROR", str(error).splitlines()[0]) from error
        actions = (tree.args.get("actions") or []) if isinstance(tree, exp.Alter) else []
        if (
            isinstance(tree, exp.Alter)
            and isinstance(tree.this, exp.Table)
            and len(actions) == 1
            and isinstance(actions[0], exp.AlterSet)
        ):
            return self._set_properties(query, tree.this, actions[0])
        added = [
            definition
            for action in actions
            if isinstance(action, exp.Schema)
            for definition in action.expressions
            if isinstance(definition, exp.ColumnDef)
        ]
        if (
            not isinstance(tree, exp.Alter)
            or not isinstance(tree.this, exp.Table)
            or not added
            or (len(actions) != 1)
        ):
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                "only ALTER TABLE <table> ADD COLUMNS (<name> <type>, ...) and SET TBLPROPERTIES "
                "(...) are supported by the local Athena stand-in",
            )
        ref = self._ref(query, tree.this)
        table = self._catalog(ref.database).get(ref.name)
        if table is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.athena_name}' does not exist")
        existing = {name for name, _ in (*table.columns, *table.partition_keys)}
        new_columns: list[tuple[str, GlueType]] = []
        for definition in added:
            name = definition.name.lower()
            if name in existing or name in dict(new_columns):
                raise AthenaQueryError("COLUMN_ALREADY_EXISTS", f"Column '{name}' already exists")
            try:
                new_columns.append((name, glue_type_from_sqlglot(definition.args["kind"])))
            except GlueTypeError as error:
                raise AthenaQueryError("NOT_SUPPORTED", f"column {name!r}: {error}") from error
        self._add_glue_columns(table, new_columns)
        if table.is_iceberg:  # external tables read the Glue columns at every query
            self._materialise_iceberg(self._catalog(ref.database)[ref.name])
        return QueryOutcome("SUCCEEDED", "DDL")

    def _set_properties(
        self, query: _Query, target: exp.Table, action: exp.AlterSet
    ) -> QueryOutcome:
        properties: dict[str, str] = {}
        for node in action.find_all(exp.Property):
            key, value = node.this, node.args.get("value")
            if not (isinstance(key, exp.Literal) and isinstance(value, exp.Literal)):
                raise AthenaQueryError(
                    "SYNTAX_ERROR", "TBLPROPERTIES takes ('key'='value', ...) string literals"
                )
            properties[str(key.this)] = str(value.this)
        if not properties:
            raise AthenaQueryError("NOT_SUPPORTED", "only SET TBLPROPERTIES (...) is supported")
        ref = self._ref(query, target)
        table = self._catalog(ref.database).get(ref.name)
        if table is None:
            raise AthenaQueryError("TABLE_NOT_FOUND", f"Table '{ref.athena_name}' does not exist")
        if not table.is_iceberg:
            raise AthenaQueryError(
                "NOT_SUPPORTED",
                "SET TBLPROPERTIES is only supported for Iceberg tables by the local Athena "
                "stand-in",
            )
        unknown = sorted(set(properties) - ICEBERG_TABLE_PROPERTIES)
        if unknown:
            raise AthenaQueryError(
                "INVALID_TABLE_PROPERTY", f"Unsupported table property key: {', '.join(unknown)}"
            )
        self.table_properties.setdefault((table.database, table.name), {}).update(properties)
        return QueryOutcome("SUCCEEDED", "DDL")

    def _add_glue_columns(
        self, table: CatalogTable, columns: Sequence[tuple[str, GlueType]]
    ) -> None:
        """What Athena does to the catalog for ADD COLUMNS: the new columns, at the end."""
        current: Any = self._glue.get_table(DatabaseName=table.database, Name=table.name)["Table"]
        table_input: Any = {key: current[key] for key in TABLE_INPUT_KEYS if key in current}
        storage = dict(table_input.get("StorageDescriptor") or {})
        storage["Columns"] = [
            *(storage.get("Columns") or []),
            *({"Name": name, "Type": glue_type.glue()} for name, glue_type in columns),
        ]
        table_input["StorageDescriptor"] = storage
        self._glue.update_table(DatabaseName=table.database, TableInput=table_input)

    # ------------------------------------------------------------------ catalog → DuckDB
    def _ref(self, query: _Query, table: exp.Table) -> TableRef:
        line, column = position(query.sql, table_offset(table))
        if table.catalog and table.catalog.lower() != CATALOG:
            raise AthenaQueryError(
                "CATALOG_NOT_FOUND",
                f"line {line}:{column}: Catalog '{table.catalog}' does not exist",
            )
        database = (table.db or query.database or DEFAULT_DATABASE).lower()
        return TableRef(database, table.name.lower(), line, column)

    def _prepare(self, query: _Query, tree: exp.Expr) -> dict[tuple[str, str], CatalogTable]:
        """Materialises what the statement reads or writes; fails on an unknown table."""
        cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        refs = [
            self._ref(query, table)
            for table in tree.find_all(exp.Table)
            if table.name and not (not table.db and table.name.lower() in cte_names)
        ]
        catalogs: dict[str, dict[str, CatalogTable]] = {}
        for ref in sorted(refs, key=lambda r: (r.line, r.column)):
            if ref.database not in catalogs:
                try:
                    catalogs[ref.database] = self._catalog(ref.database)
                except AthenaQueryError as error:
                    raise AthenaQueryError(
                        "SCHEMA_NOT_FOUND",
                        f"line {ref.line}:{ref.column}: Schema '{ref.database}' does not exist",
                    ) from error
            if ref.name not in catalogs[ref.database]:
                raise AthenaQueryError(
                    "TABLE_NOT_FOUND",
                    f"line {ref.line}:{ref.column}: Table '{ref.athena_name}' does not exist",
                )
        if query.database and query.database not in catalogs:
            with contextlib.suppress(AthenaQueryError):  # only needed for unqualified names
                catalogs[query.database] = self._catalog(query.database)
        for database, tables in catalogs.items():
            self._ensure_schema(database)
            for table in tables.values():
                if table.is_iceberg and not table.problem:
                    self._materialise_iceberg(table)
        used: dict[tuple[str, str], CatalogTable] = {}
        for ref in refs:
            table = catalogs[ref.database][ref.name]
            if table.problem:
                raise AthenaQueryError("NOT_SUPPORTED", f"table {ref.athena_name}: {table.problem}")
            if not table.is_iceberg and (ref.database, ref.name) not in used:
                self._refresh_external(table)
            used[(ref.database, ref.name)] = table
        return used
