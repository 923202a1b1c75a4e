"""Local counterparts of the template's Glue jobs, by ScriptLocation.

The cdc_merge job runs its own code (glue/cdc_merge: the same argument parsing, leases, file
tracker, history and generated SQL as on Glue) with DuckDB as the engine instead of Spark: the
"Iceberg" tables live in ``<workdir>/lake.duckdb`` and staged files are downloaded from the
local S3 first.
"""

import tempfile
from pathlib import Path
from typing import Final

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.glue import LocalGlueJob
from local_runtime.emulated import GlueJob
from local_runtime.glue_duckdb import DuckDbEngine, s3_download_resolver
from local_runtime.kept_logs import keep_log

LAKE_FILE: Final = "lake.duckdb"
CDC_MERGE_SCRIPT: Final = "build/glue/cdc_merge_job.py"


def lake_path(workdir: Path) -> Path:
    return workdir / LAKE_FILE


def run_cdc_merge(job: GlueJob, arguments: dict[str, str], services: RuntimeServices) -> None:
    """One run of the merge job; raises (a FAILED run) when a table of the batch failed."""
    # glue/ is on sys.path once glue_duckdb is imported (the job package is not ours to install)
    from cdc_merge.main import JobArguments, report, run  # noqa: PLC0415

    options = {name.removeprefix("--"): value for name, value in arguments.items()}
    parsed = JobArguments.from_options(options)
    s3 = services.session.client("s3")
    job_log = services.activity.notes_for(job.logical_id)
    # Its log lines (CloudWatch on AWS) go to the activity log, not the terminal.
    restore_log = keep_log("cdc_merge", job_log)
    try:
        with (
            tempfile.TemporaryDirectory(dir=services.workdir, prefix="glue-run-") as staging,
            DuckDbEngine(
                lake_path(services.workdir),
                catalog=parsed.catalog,
                resolve_path=s3_download_resolver(s3, Path(staging)),
            ) as engine,
        ):
            outcome = run(parsed, engine, dynamodb=services.session.client("dynamodb"))
    finally:
        restore_log()
    services.activity.job_outcomes.append({"job": job.logical_id, **outcome.as_json()})
    # The job's own report (its log line on Glue) goes to the activity log, not the terminal.
    report(outcome, write=job_log.append)


def local_glue_jobs() -> dict[str, LocalGlueJob]:
    return {CDC_MERGE_SCRIPT: run_cdc_merge}
