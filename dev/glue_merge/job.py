"""The project's Glue job, locally: the runner local_runtime's Glue bridge calls for a run of the
template's CdcMergeJob (``local_glue_jobs()``, given to ``LocalRuntime(glue_jobs=...)`` by
dev.runtime.project_runtime).

The cdc_merge job runs its own code (glue/cdc_merge: the same argument parsing, leases, file
tracker, history and generated SQL as on Glue); only its SQL engine differs. One switch,
``LOCAL_GLUE_ENGINE`` (or ``local_glue_jobs(engine=...)``), picks it:

- ``duckdb`` (default, needs only Python): the "Iceberg" tables are DuckDB tables in
  ``<workdir>/lake.duckdb``;
- ``spark``: real Spark 3.5 + Iceberg 1.10 (the engine tier's, scripts/install-engines) through
  one Spark worker per runtime, with a ``hadoop`` Iceberg catalog in ``<workdir>/lake-iceberg``
  standing for the Glue Data Catalog.

Either way, staged files are downloaded from the local S3 first.
"""

import os
import tempfile
from pathlib import Path
from typing import Any, Final, Literal

from cdc_merge.main import JobArguments, report, run
from cdc_merge.table_spec import quote_identifier
from dev.glue_merge.duckdb_engine import DuckDbEngine, s3_download_resolver
from dev.glue_merge.glue_catalog import register_lake_tables
from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.glue import LocalGlueJob
from local_runtime.emulated import GlueJob
from local_runtime.kept_logs import keep_log

LAKE_FILE: Final = "lake.duckdb"
ICEBERG_WAREHOUSE_DIR: Final = "lake-iceberg"
CDC_MERGE_SCRIPT: Final = "glue/cdc_merge_job.py"
GLUE_ENGINE_VARIABLE: Final = "LOCAL_GLUE_ENGINE"
GlueEngineName = Literal["duckdb", "spark"]
GLUE_ENGINES: Final = ("duckdb", "spark")


def lake_path(workdir: Path) -> Path:
    return workdir / LAKE_FILE


def iceberg_warehouse(workdir: Path) -> Path:
    return workdir / ICEBERG_WAREHOUSE_DIR


def glue_engine_name(engine: str | None = None) -> GlueEngineName:
    """The engine asked for (argument, else LOCAL_GLUE_ENGINE, else duckdb), validated."""
    name = (engine or os.environ.get(GLUE_ENGINE_VARIABLE) or "duckdb").strip().lower()
    if name not in GLUE_ENGINES:
        raise ValueError(f"{GLUE_ENGINE_VARIABLE}={name!r}: expected one of {GLUE_ENGINES}")
    return "spark" if name == "spark" else "duckdb"


class CdcMergeJob:
    """The cdc_merge job on the chosen engine; ``close`` stops the Spark worker, if one runs."""

    def __init__(self, engine: GlueEngineName) -> None:
        self.engine_name = engine
        self._spark: Any = None  # SparkWorkerEngine, started on the first Spark run
        self._catalogs: set[str] = set()

    def __call__(self, job: GlueJob, arguments: dict[str, str], services: RuntimeServices) -> None:
        """One run of the merge job; raises (a FAILED run) when a table of the batch failed."""
        options = {name.removeprefix("--"): value for name, value in arguments.items()}
        parsed = JobArguments.from_options(options)
        s3 = services.session.client("s3")
        job_log = services.activity.notes_for(job.logical_id)
        # Its log lines (CloudWatch on AWS) go to the activity log, not the terminal.
        restore_log = keep_log("cdc_merge", job_log)
        try:
            with tempfile.TemporaryDirectory(dir=services.workdir, prefix="glue-run-") as staging:
                resolve = s3_download_resolver(s3, Path(staging))
                dynamodb = services.session.client("dynamodb")
                if self.engine_name == "spark":
                    engine = self._spark_engine(parsed.catalog, services.workdir)
                    engine.resolve_path = resolve
                    outcome = run(parsed, engine, dynamodb=dynamodb, s3=s3)
                else:
                    with DuckDbEngine(
                        lake_path(services.workdir), catalog=parsed.catalog, resolve_path=resolve
                    ) as duckdb_engine:
                        outcome = run(parsed, duckdb_engine, dynamodb=dynamodb, s3=s3)
                    # Once the engine closed the file: as Glue's Iceberg catalog does on AWS, so
                    # Athena (the maintenance run) finds the tables.
                    register_lake_tables(
                        lake_path(services.workdir),
                        services.session.client("glue"),
                        parsed.warehouse,
                    )
        finally:
            restore_log()
        services.activity.job_outcomes.append({"job": job.logical_id, **outcome.as_json()})
        # The job's own report (its log line on Glue) goes to the activity log, not the terminal.
        report(outcome, write=job_log.append)

    def _spark_engine(self, catalog: str, workdir: Path) -> Any:
        from dev.glue_merge.spark_engine import SparkWorkerEngine  # noqa: PLC0415 - only when asked

        if self._spark is None:
            self._spark = SparkWorkerEngine()
            self._spark.start()
        if catalog not in self._catalogs:
            self._spark.add_catalog(catalog, iceberg_warehouse(workdir))
            self._catalogs.add(catalog)
        return self._spark

    def lake_tables(self, workdir: Path) -> list[tuple[str, int]]:
        """(database.table, rows) of every table the job wrote, whichever engine holds them."""
        if self.engine_name == "spark":
            return self._spark_lake_tables()
        return duckdb_lake_tables(lake_path(workdir))

    def _spark_lake_tables(self) -> list[tuple[str, int]]:
        if self._spark is None:
            return []
        tables: list[tuple[str, int]] = []
        for catalog in sorted(self._catalogs):
            for (namespace,) in self._spark.execute(
                f"SHOW NAMESPACES IN {quote_identifier(catalog)}"
            ):
                database = f"{quote_identifier(catalog)}.{quote_identifier(namespace)}"
                for row in self._spark.execute(f"SHOW TABLES IN {database}"):
                    table = f"{database}.{quote_identifier(str(row[1]))}"
                    count = self._spark.execute(f"SELECT COUNT(*) FROM {table}")[0][0]  # noqa: S608
                    tables.append((f"{namespace}.{row[1]}", int(count)))
        return sorted(tables)

    def close(self) -> None:
        spark, self._spark = self._spark, None
        self._catalogs.clear()
        if spark is not None:
            spark.close()


def duckdb_lake_tables(lake: Path) -> list[tuple[str, int]]:
    if not lake.is_file():
        return []
    import duckdb  # noqa: PLC0415

    with duckdb.connect(str(lake), read_only=True) as connection:
        names = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = 'lake' ORDER BY 1, 2"
        ).fetchall()
        tables: list[tuple[str, int]] = []
        for schema, name in names:
            # names come from the catalog itself
            query = f'SELECT count(*) FROM "{schema}"."{name}"'  # noqa: S608
            tables.append((f"{schema}.{name}", int(connection.execute(query).fetchall()[0][0])))
        return tables


def local_glue_jobs(engine: str | None = None) -> dict[str, LocalGlueJob]:
    """The project's Glue jobs by ScriptLocation, the merge job on ``engine`` (see
    glue_engine_name)."""
    return {CDC_MERGE_SCRIPT: CdcMergeJob(glue_engine_name(engine))}
