"""``CREATE TABLE [IF NOT EXISTS] db.t (name type, ...) LOCATION '...' TBLPROPERTIES
('table_type'='ICEBERG')``: what Athena does for an Iceberg table's DDL, in Glue terms.

Athena registers the table in the Glue catalog (``table_type=ICEBERG``, the columns, the
location) and writes its first metadata file; here the Glue table is created in moto and the
engine materialises it like any Iceberg table it reads from the catalog. Only Iceberg tables
are created (external tables come from the template or Glue crawlers).
"""

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_runtime.engines.athena.glue_types import GlueTypeError, glue_type_from_sqlglot
from local_runtime.engines.athena.outcomes import AthenaQueryError


@dataclass(frozen=True)
class IcebergTableDdl:
    database: str | None
    name: str
    if_not_exists: bool
    table_input: dict[str, Any]  # Glue CreateTable's TableInput


def _properties(tree: exp.Create) -> tuple[str | None, dict[str, str]]:
    location: str | None = None
    properties: dict[str, str] = {}
    found = tree.args.get("properties")
    for prop in found.expressions if found is not None else []:
        if isinstance(prop, exp.LocationProperty):
            location = prop.this.name
        elif isinstance(prop, exp.Property):
            properties[prop.name.lower()] = prop.text("value")
    return location, properties


def parse_create_table(sql: str) -> IcebergTableDdl:
    """The Glue table an Iceberg CREATE TABLE describes; AthenaQueryError otherwise."""
    try:
        tree = sqlglot.parse_one(sql, read="hive")
    except (ParseError, TokenError) as error:
        raise AthenaQueryError("SYNTAX_ERROR", str(error).splitlines()[0]) from error
    schema = tree.this if isinstance(tree, exp.Create) else None
    if (
        not isinstance(tree, exp.Create)
        or tree.kind != "TABLE"
        or not isinstance(schema, exp.Schema)
    ):
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            "only CREATE TABLE <table> (<columns>) LOCATION ... TBLPROPERTIES "
            "('table_type'='ICEBERG') is supported by the local Athena stand-in",
        )
    location, properties = _properties(tree)
    if properties.get("table_type", "").upper() != "ICEBERG" or not location:
        raise AthenaQueryError(
            "NOT_SUPPORTED",
            "the local Athena stand-in creates Iceberg tables only, with a LOCATION and "
            "TBLPROPERTIES ('table_type'='ICEBERG')",
        )
    columns: list[dict[str, str]] = []
    for definition in schema.expressions:
        if not isinstance(definition, exp.ColumnDef):
            raise AthenaQueryError("NOT_SUPPORTED", f"unexpected {definition.sql('hive')}")
        try:
            glue_type = glue_type_from_sqlglot(definition.args["kind"])
        except GlueTypeError as error:
            raise AthenaQueryError(
                "NOT_SUPPORTED", f"column {definition.name!r}: {error}"
            ) from error
        columns.append({"Name": definition.name.lower(), "Type": glue_type.glue()})
    table = schema.this
    return IcebergTableDdl(
        database=table.db.lower() or None,
        name=table.name.lower(),
        if_not_exists=bool(tree.args.get("exists")),
        table_input={
            "Name": table.name.lower(),
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"table_type": "ICEBERG"},
            "StorageDescriptor": {"Columns": columns, "Location": location},
        },
    )
