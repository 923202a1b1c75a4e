# ruff: noqa: S608 - naive_statements is the string-built baseline being measured, on purpose.
"""glue_merge: cost of generating a table's Spark SQL, next to the naive string-built statements.

- ``glue_merge.sql_build_ms``: median time (ms) to build every statement the merge job may run
  for one table — the job's own path, ``job.apply_plan`` on an engine that runs nothing
  (namespace, create, full-load replace, value checks, latest change per key, MERGE and its
  counts, row counts) — for a table of 50 columns with
  a 3-column primary key, all identifiers quoted and validated. Baseline, same table, same run:
  the source post's approach, the same statements glued together with f-strings of unquoted
  names (implemented below) — faster, and broken by the first name that needs quoting or that
  holds a quote. The point of the measure: quoting and validation cost well under a millisecond
  per table, nothing next to a Spark statement.
"""

from typing import Any

from glue_merge_fakes import job_statements

from benchmarks.results import BenchResult, median_seconds
from cdc_merge.table_spec import TableSpec

BUILDS_PER_SAMPLE = 200
COLUMNS = 50
KEY_COLUMNS = 3
TYPES = ("bigint", "string", "decimal(12,2)", "timestamp", "int", "boolean", "date", "double")


def table_config() -> dict[str, Any]:
    columns = [{"name": f"column_{n:02d}", "type": TYPES[n % len(TYPES)]} for n in range(COLUMNS)]
    return {
        "cadence": "hourly",
        "source_table": "sales.order_lines",
        "target_database": "sales",
        "target_table": "order_lines",
        "columns": columns,
        "primary_key": [column["name"] for column in columns[:KEY_COLUMNS]],
        "sequence_column": "change_ts",
        "sequence_column_type": "timestamp",
        "partition_by": ["column_03"],
    }


def naive_statements(config: dict[str, Any]) -> list[str]:
    """The post's way: names pasted into f-strings as they are, no quoting, no validation."""
    table = f"glue_catalog.{config['target_database']}.{config['target_table']}"
    names = [column["name"] for column in config["columns"]]
    keys = config["primary_key"]
    cols = ", ".join(names)
    on = " AND ".join(f"t.{key} = s.{key}" for key in keys)
    casts = ", ".join(f"CAST({c['name']} AS {c['type']}) AS {c['name']}" for c in config["columns"])
    typed = f"SELECT op, seq, file_order, row_in_file, {casts} FROM changes"
    latest = (
        f"SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {', '.join(keys)} ORDER BY"
        f" seq DESC, file_order DESC, row_in_file DESC) AS rn FROM ({typed})) WHERE rn = 1"
    )
    updates = ", ".join(f"{name} = s.{name}" for name in names if name not in keys)
    definitions = ", ".join(f"{c['name']} {c['type']}" for c in config["columns"])
    return [
        f"CREATE DATABASE IF NOT EXISTS glue_catalog.{config['target_database']}",
        f"CREATE TABLE IF NOT EXISTS {table} ({definitions}) USING iceberg",
        f"CREATE OR REPLACE TABLE {table} USING iceberg AS SELECT {cols} FROM ({latest})",
        latest,
        f"MERGE INTO {table} t USING latest s ON {on} WHEN MATCHED AND s.op = 'D' THEN DELETE"
        f" WHEN MATCHED THEN UPDATE SET {updates} WHEN NOT MATCHED AND s.op <> 'D' THEN INSERT"
        f" ({cols}) VALUES ({', '.join('s.' + name for name in names)})",
        f"SELECT COUNT(*) FROM latest s LEFT JOIN {table} t ON {on}",
        f"SELECT COUNT(*) FROM {table}",
    ]


def _per_build_ms(build: Any) -> float:
    def sample() -> None:
        for _ in range(BUILDS_PER_SAMPLE):
            build()

    return median_seconds(sample, repeat=7) * 1000 / BUILDS_PER_SAMPLE


def run() -> list[BenchResult]:
    config = table_config()

    def ours() -> None:
        spec = TableSpec.from_dict(config)  # the job parses each table of its batch once
        job_statements(spec)

    return [
        BenchResult(
            name="glue_merge.sql_build_ms",
            value=_per_build_ms(ours),
            unit="ms",
            better="lower",
            baseline=_per_build_ms(lambda: naive_statements(config)),
        )
    ]
