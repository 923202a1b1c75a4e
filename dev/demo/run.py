"""`make demo`: land DMS-style files in the staging bucket and show what the event graph did.

Everything runs from template.yaml on moto in this process: S3 → EventBridge rule → SQS →
file_tracker → DynamoDB. Then EventBridge's at-least-once delivery is played out by sending
some of the same events again; the tracker must still hold exactly one item per file.
"""

import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dev.demo import (
    catalog,
    cdc,
    dashboards,
    excel,
    maintenance,
    monitoring,
    object_tasks,
    pipeline_metrics,
    redshift,
)
from dev.demo.support import shown
from dev.glue_merge.job import (
    CDC_MERGE_SCRIPT,
    CdcMergeJob,
    iceberg_warehouse,
    lake_path,
)
from dev.paths import ROOT
from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from local_runtime.activity import emitted_metrics
from local_runtime.bridges.dynamodb_backend import MOTO
from local_runtime.report import table

REDELIVERED = 3
EXAMPLE_CONFIG = ROOT / "config" / "pipeline.yaml"
# The schedules the config loader made for the config's cadences (15min: added by config).
CADENCE_SCHEDULES = ("hourly", "daily", "15min")
# Kept after the demo so the merged tables can be queried; .gitignored.
DEMO_WORKDIR = ROOT / ".local"


@dataclass(frozen=True)
class LandedObject:
    key: str
    body: bytes
    why: str


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def dms_output() -> Iterator[LandedObject]:
    """What AWS DMS writes for a full load followed by ongoing replication (CDC), plus the
    odd objects every staging bucket collects."""
    yield LandedObject(
        "sales/orders/LOAD00000001.csv",
        _csv("1001,42,2026-11-20,129.90,shipped", "1002,7,2026-11-21,15.00,open"),
        "full load",
    )
    yield LandedObject(
        "sales/orders/LOAD00000002.csv",
        _csv("1003,42,2026-11-21,80.00,open"),
        "full load, 2nd file",
    )
    yield LandedObject(
        "sales/orders/2026/11/23/20261123-101500123.csv",
        _csv(
            "I,2026-11-23 10:14:59,1004,9,2026-11-23,49.99,open",
            "U,2026-11-23 10:15:00,1002,7,2026-11-21,15.00,shipped",
        ),
        "CDC",
    )
    yield LandedObject(
        "sales/orders/2026/11/23/20261123-103000456.csv",
        _csv("D,2026-11-23 10:29:58,1003,42,2026-11-21,80.00,open"),
        "CDC",
    )
    yield LandedObject(
        "sales/customers/LOAD00000001.csv",
        _csv("42,Ada Lovelace,GB", "7,Grace Hopper,US", "9,Alan Turing,GB"),
        "full load",
    )
    yield LandedObject(
        "sales/customers/2026/11/23/20261123-101501789.csv",
        _csv("U,2026-11-23 10:15:01,9,Alan M. Turing,GB"),
        "CDC",
    )
    yield LandedObject(
        "inventory/products/LOAD00000001.csv",
        _csv("sku-1,Widget,12", "sku-2,Gadget,0"),
        "full load",
    )
    yield LandedObject(
        "inventory/products/2026/11/23/20261123-102000001.csv",
        _csv("U,2026-11-23 10:20:00,sku-2,Gadget,25"),
        "CDC",
    )
    yield LandedObject("inventory/products/2026/11/23/", b"", "folder marker: ignored")
    yield LandedObject("manifest.json", b'{"tables": 3}', "stray key: quarantined")


def _count_items(runtime: LocalRuntime, table_name: str) -> int:
    paginator = runtime.dynamodb.get_paginator("scan")
    return sum(page["Count"] for page in paginator.paginate(TableName=table_name, Select="COUNT"))


def _queue_depth(runtime: LocalRuntime, url: str) -> int:
    attributes = runtime.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _tracker_rows(runtime: LocalRuntime, table_name: str) -> list[list[Any]]:
    items = []
    for page in runtime.dynamodb.get_paginator("scan").paginate(TableName=table_name):
        items.extend(page["Items"])
    rows = []
    for item in items:
        value = {name: next(iter(attr.values())) for name, attr in item.items()}
        rows.append(
            [
                value["source_table"],
                value.get("load_type", "-"),
                value["key"],
                value.get("size", "-"),
                value["status"],
                str(value["file_id"])[:12],
            ]
        )
    return sorted(
        rows, key=lambda row: (row[0] == "__unmatched__", row[0], row[1] != "full", row[2])
    )


def _upload_config(runtime: LocalRuntime) -> None:
    runtime.s3.put_object(
        Bucket=runtime.outputs["ConfigBucketName"],
        Key=f"config/{EXAMPLE_CONFIG.name}",
        Body=EXAMPLE_CONFIG.read_bytes(),
    )
    runtime.settle()


def _land(runtime: LocalRuntime, landed: list[LandedObject]) -> None:
    bucket = runtime.outputs["StagingBucketName"]
    for obj in landed:
        runtime.s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.body)
    runtime.settle()
    # At-least-once: the same EventBridge events arrive a second time.
    queue_url = runtime.outputs["FileTrackerQueueUrl"]
    staging_events = [r.event for r in runtime.activity.routed if r.via.endswith("CreatedRule")]
    for event in staging_events[:REDELIVERED]:
        runtime.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    runtime.settle()


def _tick(runtime: LocalRuntime) -> list[dict[str, Any]]:
    executions = []
    for schedule in CADENCE_SCHEDULES:
        arn = runtime.fire_schedule(schedule)
        runtime.settle()
        executions.append(runtime.stepfunctions_bridge.describe(arn))
    return executions


def _activity_rows(runtime: LocalRuntime, landed: list[LandedObject]) -> list[list[Any]]:
    outputs = runtime.outputs
    rows: list[list[Any]] = [
        ["config uploaded", f"s3://{outputs['ConfigBucketName']}/config/{EXAMPLE_CONFIG.name}", 1],
        ["objects landed", f"s3://{outputs['StagingBucketName']}", len(landed)],
    ]
    for (via, target), count in sorted(runtime.activity.routes().items()):
        rows.append(["events routed", f"{via} → {runtime.stack.logical_id(target)}", count])
    published = Counter(
        (event.source, event.detail_type, event.bus) for event in runtime.activity.published
    )
    for (source, detail_type, bus), count in sorted(published.items()):
        rows.append(["events published", f"{source} '{detail_type}' on bus {bus}", count])
    rows.append(["events redelivered", "same staging events sent to the queue again", REDELIVERED])
    metrics: dict[str, Counter[str]] = {}
    by_function: dict[tuple[str, str], list[int]] = {}
    for invocation in runtime.invocations:
        metrics.setdefault(invocation.function, Counter()).update(emitted_metrics(invocation.logs))
        stats = by_function.setdefault((invocation.function, invocation.trigger), [0, 0, 0])
        stats[0] += 1
        stats[1] += invocation.records
        stats[2] += invocation.failed_records + (0 if invocation.ok else max(1, invocation.records))
    for (function, trigger), (calls, records, failed) in by_function.items():
        detail = f"{calls} invocations" + (f", {records} records" if records else "")
        rows.append(["function invoked", f"{function} ← {trigger}", f"{detail}, {failed} failed"])
    for function, counts in metrics.items():
        for name, value in sorted(counts.items()):
            rows.append(["metric", f"{function}: {name}", int(value)])
    runs = Counter(run.state for run in runtime.glue_bridge.runs)
    rows.append(
        [
            "Glue runs",
            "CdcMergeJob (local: DuckDB)",
            ", ".join(f"{count} {state.lower()}" for state, count in sorted(runs.items())) or "0",
        ]
    )
    for table_output in (
        "FileTrackerTable",
        "BatchConfigTable",
        "TableConfigTable",
        "ProcessingHistoryTable",
    ):
        rows.append(
            ["items written", table_output, _count_items(runtime, outputs[f"{table_output}Name"])]
        )
    for dlq in ("FileTrackerDLQ", "StagingEventsDLQ"):
        rows.append(["dead-lettered", dlq, _queue_depth(runtime, outputs[f"{dlq}Url"])])
    rows.extend(["note", note, ""] for note in runtime.activity.notes)
    return rows


def _merged_rows(runtime: LocalRuntime) -> list[list[Any]]:
    rows = []
    for outcome in runtime.activity.job_outcomes:
        for table_outcome in outcome["tables"]:
            rows.append(
                [
                    table_outcome["source_table"],
                    outcome["batch_id"].split("-", 1)[0],
                    table_outcome["status"],
                    table_outcome["files"],
                    table_outcome["inserted"],
                    table_outcome["updated"],
                    table_outcome["deleted"],
                    "yes" if table_outcome["full_load"] else "no",
                ]
            )
    return sorted(rows)


def run_demo(
    workdir: Path = DEMO_WORKDIR, dynamodb: str | None = None, glue_engine: str | None = None
) -> int:
    """``dynamodb``: the engine serving DynamoDB, "moto" or "dynamodb-local" (default:
    LOCAL_DYNAMODB, else moto); ``glue_engine``: the Glue job's engine, "duckdb" or "spark"
    (default: LOCAL_GLUE_ENGINE, else duckdb)."""
    started = time.perf_counter()
    lake = lake_path(workdir)
    lake.unlink(missing_ok=True)  # every demo starts from an empty lake
    shutil.rmtree(iceberg_warehouse(workdir), ignore_errors=True)
    parameters = {
        "SpiceDatasets": json.dumps(excel.SPICE_DATASETS),
        "WorkbookCleaningSpecs": json.dumps(excel.CLEANING_SPECS),
        **monitoring.MONITORING_SCOPE,
    }
    with project_runtime(
        workdir=workdir, parameters=parameters, dynamodb=dynamodb, glue_engine=glue_engine
    ) as runtime:
        merge_job = runtime.glue_bridge.local_jobs[CDC_MERGE_SCRIPT]
        assert isinstance(merge_job, CdcMergeJob)
        deployed_s = time.perf_counter() - started
        print("datalake-events local demo: template.yaml on moto, in-process (no Docker, no AWS)")
        print(
            f"  deployed stack {runtime.stack.name}: {len(runtime.stack.resources)} resources "
            f"in {deployed_s:.1f} s"
        )
        if runtime.dynamodb_backend.name != MOTO:
            print(f"  DynamoDB tables and streams served by {runtime.dynamodb_backend.description}")
        if merge_job.engine_name == "spark":
            print(
                "  Glue job on Spark 3.5.6 + Iceberg 1.10.2 (a hadoop catalog in place of Glue's)"
            )
        if runtime.stack.skipped_by_moto:
            skipped = sorted({n.rsplit(" ", 1)[-1] for n in runtime.stack.skipped_by_moto})
            print(f"  not in moto's CloudFormation (emulated or skipped): {', '.join(skipped)}")

        landed = list(dms_output())
        _upload_config(runtime)
        _land(runtime, landed)
        executions = _tick(runtime)

        print("\n1. Pipeline config uploaded, then DMS files landed in the staging bucket:")
        print(table(["key", "what"], [[o.key, o.why] for o in landed]))
        print(
            "\n2. The config loader made one schedule per cadence of the config "
            f"({', '.join(CADENCE_SCHEDULES)}); each fired a batch run:"
        )
        print(
            table(
                ["execution", "status", "batches", "failed batches"],
                [_execution_row(execution) for execution in executions],
            )
        )
        print("\nWhat happened:")
        print(table(["what", "where", "count"], _activity_rows(runtime, landed)))
        print("\nMerged by the Glue job (processing history):")
        print(
            table(
                [
                    "source_table",
                    "cadence",
                    "status",
                    "files",
                    "inserted",
                    "updated",
                    "deleted",
                    "full load",
                ],
                _merged_rows(runtime),
            )
        )
        print("\nFile tracker contents (one item per file, even after redelivery):")
        print(
            table(
                ["source_table", "load", "key", "bytes", "status", "file_id"],
                _tracker_rows(runtime, runtime.outputs["FileTrackerTableName"]),
            )
        )
        for section in (cdc.run, maintenance.run, excel.run, pipeline_metrics.run):
            section(runtime)
        broken_run = monitoring.break_a_batch(runtime)
        monitoring.run(runtime, broken_run)
        redshift.run(runtime, EXAMPLE_CONFIG)
        for last_section in (object_tasks.run, catalog.run, dashboards.run):
            last_section(runtime)  # the dashboards' preview last: it draws what the rest stored
        lake_tables = merge_job.lake_tables(workdir)  # before the runtime stops its engine
    if merge_job.engine_name == "spark":
        print(f"\nThe lake (Iceberg tables) is kept in {shown(iceberg_warehouse(workdir))}:")
        print(table(["table", "rows"], [list(row) for row in lake_tables]))
    else:
        print(f"\nThe lake (Iceberg tables on AWS; DuckDB locally) is kept in {shown(lake)}:")
        print(table(["table", "rows"], [list(row) for row in lake_tables]))
        query = "SELECT * FROM sales.orders"
        connect = f"duckdb.connect('{shown(lake)}', read_only=True)"
        print(
            f"  query it:  .venv/bin/python -c \"import duckdb; print({connect}.sql('{query}'))\""
        )
    print(f"\nDone in {time.perf_counter() - started:.1f} s.")
    return 0


def _execution_row(execution: dict[str, Any]) -> list[Any]:
    summary = json.loads(execution.get("output") or "{}")
    results = summary.get("results", [])
    failed = sum(1 for result in results if result.get("status") == "FAILED")
    return [execution["name"], execution["status"], summary.get("batch_count", 0), failed]
