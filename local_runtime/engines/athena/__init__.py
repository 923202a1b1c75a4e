"""The local Athena (engine v3) stand-in, on DuckDB: ``AthenaOnDuckDB``.

What runs is the SQL the application sends Athena, transpiled from Trino to DuckDB by sqlglot,
against the tables of the Glue catalog (moto):

- An Iceberg table (``table_type=ICEBERG``) is a DuckDB table ``"<database>"."<table>"`` in the
  DuckDB file given (one DuckDB schema per Glue database): tables.py. The file is the lake.
- An external table (CSV with OpenCSVSerde / LazySimpleSerDe, JSON lines, Parquet) is a view
  over local copies of the objects under its S3 location: external.py.
- Statements are read (statements.py), rewritten for DuckDB (rewrite.py) and run (engine.py);
  results print as Athena prints them (results.py); a failure carries Athena's error name
  ("TABLE_NOT_FOUND: ...") and AthenaError fields (outcomes.py). Glue column types: glue_types.py.

One statement per query, as Athena; statements run one at a time (one DuckDB connection).
"""

from local_runtime.engines.athena.engine import AthenaOnDuckDB
from local_runtime.engines.athena.glue_types import (
    GlueType,
    GlueTypeError,
    glue_type_from_sqlglot,
    parse_glue_type,
)
from local_runtime.engines.athena.outcomes import (
    ICEBERG_ERROR_TYPE,
    INTERNAL_ERROR_TYPE,
    SYSTEM_ERROR,
    QueryError,
    QueryOutcome,
    ResultColumn,
)
from local_runtime.engines.athena.rewrite import trino_to_duckdb

__all__ = [
    "ICEBERG_ERROR_TYPE",
    "INTERNAL_ERROR_TYPE",
    "SYSTEM_ERROR",
    "AthenaOnDuckDB",
    "GlueType",
    "GlueTypeError",
    "QueryError",
    "QueryOutcome",
    "ResultColumn",
    "glue_type_from_sqlglot",
    "parse_glue_type",
    "trino_to_duckdb",
]
