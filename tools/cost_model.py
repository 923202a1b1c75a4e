"""What the stack costs a month, per capability, for a stated workload, from AWS's public prices.

    python -m tools.cost_model            # the table, in Markdown
    python -m tools.cost_model --write    # rewrite the table in docs/cost.md

The workload and the prices are data (``Workload``, ``PRICES``); the arithmetic is one function
per capability, each line an item of AWS's bill with its quantity, so a team can change the
workload to theirs and see which line grows. Settings the template fixes (memory sizes, batch
sizes, alarm count) are read from template.yaml, never restated here. A unit test keeps
docs/cost.md equal to this output.
"""

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from samcli.yamlhelper import yaml_parse

ROOT: Final = Path(__file__).resolve().parent.parent
TEMPLATE: Final = ROOT / "template.yaml"
COST_DOC: Final = ROOT / "docs" / "cost.md"
TABLE_START: Final = "<!-- cost-table:start (python -m tools.cost_model --write) -->"
TABLE_END: Final = "<!-- cost-table:end -->"
DAYS_PER_MONTH: Final = 30
HOURS_PER_MONTH: Final = 24 * DAYS_PER_MONTH
MB_PER_TB: Final = 1024 * 1024


@dataclass(frozen=True)
class Prices:
    """US East (N. Virginia) on-demand list prices, USD, without free tiers (checked 2026-12
    on each service's pricing page; the free tiers make small stacks cheaper still)."""

    lambda_gb_second_arm: float = 0.0000133334
    lambda_request: float = 0.20 / 1e6
    sqs_request: float = 0.40 / 1e6  # standard queue, per 64 KB chunk
    sns_publish: float = 0.50 / 1e6  # deliveries to SQS and Lambda are free
    eventbridge_custom_event: float = 1.00 / 1e6  # events AWS services send are free
    scheduler_invocation: float = 1.00 / 1e6
    dynamodb_write_unit: float = 0.625 / 1e6  # on-demand WRU
    dynamodb_read_unit: float = 0.125 / 1e6  # on-demand RRU
    dynamodb_gb_month: float = 0.25
    sfn_state_transition: float = 0.025 / 1000  # standard workflows
    glue_dpu_hour: float = 0.44  # Spark jobs, billed per second, 1 minute minimum
    athena_tb_scanned: float = 5.00  # 10 MB minimum per query
    s3_put: float = 0.005 / 1000
    s3_get: float = 0.0004 / 1000
    s3_gb_month: float = 0.023
    cloudwatch_alarm: float = 0.10  # standard resolution, per alarm-month
    cloudwatch_dashboard: float = 3.00  # per dashboard-month (3 free per account not counted)
    cloudwatch_logs_ingest_gb: float = 0.50
    secret_month: float = 0.40
    kms_key_month: float = 1.00


PRICES: Final = Prices()


@dataclass(frozen=True)
class Workload:
    """A mid-size platform; every figure is per month unless it says otherwise."""

    # File tracking and batch dispatch (DMS -> S3 -> Glue merge into Iceberg)
    dms_tables: int = 50
    dms_files_per_table_per_hour: int = 12  # DMS CdcMaxBatchInterval 300 s
    tables_per_glue_run: int = 10  # the cadence's batch_size
    merge_every_hours: int = 1  # the cadence's schedule
    glue_runs_minutes: float = 4.0  # billed minutes per Glue run (start-up included)
    glue_workers: int = 2  # G.1X = 1 DPU each
    # CDC to Iceberg (DynamoDB Streams -> Athena MERGE)
    cdc_tables: int = 3
    cdc_changes: int = 3_000_000
    cdc_records_per_batch: int = 100
    cdc_seconds_per_batch: float = 4.0  # mostly waiting for Athena's MERGE
    cdc_mb_scanned_per_merge: float = 50.0
    # Iceberg maintenance (Athena OPTIMIZE + VACUUM, daily, every merged and CDC table)
    maintenance_mb_scanned_per_table: float = 200.0
    # Excel cleaning
    workbooks: int = 2_000
    workbook_seconds: float = 3.0
    # Pipeline metrics
    pipeline_events: int = 50_000
    # Monitoring and alerts
    monitored_events: int = 30_000
    redshift_log_batches: int = 200_000
    log_gb_ingested: float = 2.0  # all the stack's functions and state machines
    # Scheduled object rewrites (one rule per upload; objects of a few MB)
    dataset_uploads: int = 100_000
    rewrite_seconds: float = 1.0
    # Glue catalog type fixer (crawler runs creating or updating tables)
    catalog_table_changes: int = 3_000


def _template() -> Mapping[str, Any]:
    parsed: Mapping[str, Any] = yaml_parse(TEMPLATE.read_text())
    return parsed


@dataclass(frozen=True)
class TemplateFacts:
    """The settings of template.yaml a bill depends on."""

    default_memory_mb: int
    memory_mb: Mapping[str, int]  # per function logical id that sets its own
    file_tracker_batch_size: int
    alarms: int
    dashboards: int

    @classmethod
    def read(cls, template: Mapping[str, Any] | None = None) -> "TemplateFacts":
        template = template or _template()
        resources = template["Resources"]
        memory = {
            name: int(resource["Properties"]["MemorySize"])
            for name, resource in resources.items()
            if resource["Type"] == "AWS::Serverless::Function"
            and "MemorySize" in resource.get("Properties", {})
        }
        return cls(
            default_memory_mb=int(template["Globals"]["Function"]["MemorySize"]),
            memory_mb=memory,
            file_tracker_batch_size=int(template["Parameters"]["FileTrackerBatchSize"]["Default"]),
            alarms=sum(r["Type"] == "AWS::CloudWatch::Alarm" for r in resources.values()),
            dashboards=sum(r["Type"] == "AWS::CloudWatch::Dashboard" for r in resources.values()),
        )

    def memory_gb(self, function: str) -> float:
        return self.memory_mb.get(function, self.default_memory_mb) / 1024


@dataclass(frozen=True)
class LineItem:
    capability: str
    item: str
    quantity: str
    usd: float


def _lambda(
    capability: str, facts: TemplateFacts, function: str, invocations: float, seconds: float
) -> list[LineItem]:
    gb_seconds = invocations * seconds * facts.memory_gb(function)
    return [
        LineItem(
            capability,
            f"Lambda {function.removesuffix('Function')}",
            f"{invocations:,.0f} invocations, {gb_seconds:,.0f} GB-s",
            invocations * PRICES.lambda_request + gb_seconds * PRICES.lambda_gb_second_arm,
        )
    ]


def _athena(capability: str, item: str, queries: float, mb_each: float) -> LineItem:
    scanned_tb = queries * max(mb_each, 10.0) / MB_PER_TB
    return LineItem(
        capability,
        f"Athena {item}",
        f"{queries:,.0f} queries, {scanned_tb:,.2f} TB",
        scanned_tb * PRICES.athena_tb_scanned,
    )


def file_tracking(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "File tracking"
    files = w.dms_tables * w.dms_files_per_table_per_hour * HOURS_PER_MONTH
    invocations = files / facts.file_tracker_batch_size
    # send + one receive and one delete per batch, and the poller's idle long polls (5 x 3/min)
    sqs_requests = files + 2 * invocations + 5 * 3 * 60 * HOURS_PER_MONTH
    return [
        LineItem(c, "EventBridge (S3 Object Created)", f"{files:,} events", 0.0),
        LineItem(c, "SQS", f"{sqs_requests:,.0f} requests", sqs_requests * PRICES.sqs_request),
        *_lambda(c, facts, "FileTrackerFunction", invocations, 0.2),
        # one conditional put (item + sparse pending index), one update when merged
        LineItem(
            c, "DynamoDB writes", f"{4 * files:,} WRU", 4 * files * PRICES.dynamodb_write_unit
        ),
    ]


def batch_dispatch(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Batch dispatch (Glue)"
    runs_per_tick = -(-w.dms_tables // w.tables_per_glue_run)
    ticks = HOURS_PER_MONTH // w.merge_every_hours
    glue_runs = runs_per_tick * ticks
    dpu_hours = glue_runs * w.glue_workers * w.glue_runs_minutes / 60
    transitions = ticks * (8 + 5 * runs_per_tick)
    files = w.dms_tables * w.dms_files_per_table_per_hour * HOURS_PER_MONTH
    return [
        LineItem(
            c,
            "Glue job (G.1X)",
            f"{glue_runs:,} runs, {dpu_hours:,.0f} DPU-hours",
            dpu_hours * PRICES.glue_dpu_hour,
        ),
        LineItem(
            c,
            "Step Functions",
            f"{transitions:,} transitions",
            transitions * PRICES.sfn_state_transition,
        ),
        *_lambda(c, facts, "BatchPlannerFunction", ticks, 0.3),
        LineItem(c, "S3 GET (DMS files read)", f"{files:,} requests", files * PRICES.s3_get),
        # per table and run: lease taken and released, history written; pending files queried
        LineItem(
            c,
            "DynamoDB (leases, history, pending files)",
            f"{6 * w.dms_tables * ticks:,} WRU, {files:,} RRU",
            6 * w.dms_tables * ticks * PRICES.dynamodb_write_unit
            + files * PRICES.dynamodb_read_unit,
        ),
    ]


def cdc_to_iceberg(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "CDC to Iceberg"
    batches = w.cdc_changes / w.cdc_records_per_batch
    return [
        *_lambda(c, facts, "IcebergCdcFunction", batches, w.cdc_seconds_per_batch),
        _athena(c, "MERGE", batches, w.cdc_mb_scanned_per_merge),
        LineItem(
            c, "S3 PUT (Iceberg commits)", f"{10 * batches:,.0f}", 10 * batches * PRICES.s3_put
        ),
        LineItem(c, "DynamoDB Streams reads by Lambda", "free", 0.0),
    ]


def table_maintenance(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Iceberg maintenance"
    runs = (w.dms_tables + w.cdc_tables) * DAYS_PER_MONTH
    return [
        _athena(c, "OPTIMIZE", runs, w.maintenance_mb_scanned_per_table),
        _athena(c, "VACUUM", runs, 10.0),
        LineItem(
            c, "Step Functions", f"{runs * 6:,} transitions", runs * 6 * PRICES.sfn_state_transition
        ),
    ]


def excel_cleaning(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Excel cleaning"
    return [
        *_lambda(c, facts, "ExcelCleanerFunction", w.workbooks, w.workbook_seconds),
        LineItem(c, "SNS", f"{2 * w.workbooks:,} publishes", 2 * w.workbooks * PRICES.sns_publish),
        LineItem(c, "S3 PUT (CSVs)", f"{3 * w.workbooks:,}", 3 * w.workbooks * PRICES.s3_put),
    ]


def pipeline_metrics(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Pipeline metrics"
    invocations = w.pipeline_events / 25
    return [
        *_lambda(c, facts, "PipelineMetricsFunction", invocations, 0.3),
        LineItem(
            c, "SQS", f"{3 * w.pipeline_events:,}", 3 * w.pipeline_events * PRICES.sqs_request
        ),
        LineItem(c, "S3 PUT", f"{invocations * 3:,.0f}", invocations * 3 * PRICES.s3_put),
    ]


def monitoring(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Monitoring and alerts"
    return [
        LineItem(
            c,
            "SNS publish + SQS (send, receive, delete)",
            f"{w.monitored_events:,} events",
            w.monitored_events * (PRICES.sns_publish + 3 * PRICES.sqs_request),
        ),
        *_lambda(c, facts, "PipelineMonitorFunction", w.monitored_events / 10, 0.4),
        *_lambda(c, facts, "RedshiftAuditFunction", w.redshift_log_batches, 0.15),
        LineItem(
            c,
            "S3 PUT (stored events)",
            f"{w.monitored_events:,}",
            w.monitored_events * PRICES.s3_put,
        ),
    ]


def scheduled_rewrites(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Scheduled object rewrites"
    # Each upload is seen twice by the scheduler (the rewrite's own event is ignored after a
    # HeadObject); the rewriter heads, gets, reads the tags, puts, and deletes a version.
    scheduler_events = 2 * w.dataset_uploads
    return [
        *_lambda(c, facts, "ObjectTaskSchedulerFunction", scheduler_events / 10, 0.5),
        *_lambda(c, facts, "ObjectRewriterFunction", w.dataset_uploads, w.rewrite_seconds),
        LineItem(
            c,
            "EventBridge Scheduler",
            f"{w.dataset_uploads:,} one-time schedules",
            w.dataset_uploads * PRICES.scheduler_invocation,
        ),
        LineItem(
            c,
            "SQS (uploads and due tasks)",
            f"{3 * (scheduler_events + w.dataset_uploads):,} requests",
            3 * (scheduler_events + w.dataset_uploads) * PRICES.sqs_request,
        ),
        LineItem(
            c,
            "DynamoDB tasks",
            f"{2 * w.dataset_uploads:,} writes, {w.dataset_uploads:,} reads",
            w.dataset_uploads * (2 * PRICES.dynamodb_write_unit + PRICES.dynamodb_read_unit),
        ),
        LineItem(
            c,
            "S3 requests",
            f"{5 * w.dataset_uploads:,} GET/HEAD, {w.dataset_uploads:,} PUT",
            w.dataset_uploads * (5 * PRICES.s3_get + PRICES.s3_put),
        ),
    ]


def catalog_type_fixer(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Glue catalog type fixer"
    return [
        *_lambda(c, facts, "CatalogTypeFixerFunction", w.catalog_table_changes, 0.3),
        LineItem(
            c,
            "SQS",
            f"{3 * w.catalog_table_changes:,} requests",
            3 * w.catalog_table_changes * PRICES.sqs_request,
        ),
    ]


def platform(w: Workload, facts: TemplateFacts) -> list[LineItem]:
    c = "Whole stack"
    return [
        LineItem(
            c, "CloudWatch alarms", f"{facts.alarms} alarms", facts.alarms * PRICES.cloudwatch_alarm
        ),
        LineItem(
            c,
            "CloudWatch dashboard",
            f"{facts.dashboards} dashboard",
            facts.dashboards * PRICES.cloudwatch_dashboard,
        ),
        LineItem(
            c,
            "CloudWatch Logs ingestion",
            f"{w.log_gb_ingested:g} GB",
            w.log_gb_ingested * PRICES.cloudwatch_logs_ingest_gb,
        ),
        LineItem(
            c,
            "KMS key + Secrets Manager secret",
            "1 + 1",
            PRICES.kms_key_month + PRICES.secret_month,
        ),
    ]


CAPABILITIES: Final[tuple[Callable[[Workload, TemplateFacts], list[LineItem]], ...]] = (
    file_tracking,
    batch_dispatch,
    cdc_to_iceberg,
    table_maintenance,
    excel_cleaning,
    pipeline_metrics,
    monitoring,
    scheduled_rewrites,
    catalog_type_fixer,
    platform,
)


def estimate(workload: Workload, facts: TemplateFacts) -> list[LineItem]:
    return [item for capability in CAPABILITIES for item in capability(workload, facts)]


# What moves the bill most, each against the stated workload.
LEVERS: Final = (
    ("As stated", Workload()),
    ("All 50 tables in one Glue run an hour (batch_size 50)", Workload(tables_per_glue_run=50)),
    (
        "Hourly tables merged daily instead (cadence daily, batch_size 50)",
        Workload(tables_per_glue_run=50, merge_every_hours=24, glue_runs_minutes=10.0),
    ),
    ("CDC batches of 1,000 records (CdcBatchSize)", Workload(cdc_records_per_batch=1_000)),
)


def levers_table() -> str:
    facts = TemplateFacts.read()
    lines = ["| Workload | USD a month |", "|---|---:|"]
    for name, workload in LEVERS:
        total = sum(item.usd for item in estimate(workload, facts))
        lines.append(f"| {name} | {total:,.2f} |")
    return "\n".join(lines)


def render(items: list[LineItem], workload: Workload) -> str:
    lines = ["| Capability | Item | Quantity a month | USD a month |", "|---|---|---|---:|"]
    lines += [f"| {i.capability} | {i.item} | {i.quantity} | {i.usd:,.2f} |" for i in items]
    totals: dict[str, float] = {}
    for i in items:
        totals[i.capability] = totals.get(i.capability, 0.0) + i.usd
    lines += ["", "| Capability | USD a month |", "|---|---:|"]
    lines += [f"| {name} | {usd:,.2f} |" for name, usd in totals.items()]
    lines.append(f"| **Total** | **{sum(totals.values()):,.2f}** |")
    lines += ["", levers_table(), "", "The workload:", ""]
    lines += [f"- `{f.name}` = {getattr(workload, f.name):,}" for f in fields(workload)]
    return "\n".join(lines)


def rewrite_doc(doc: str, table: str) -> str:
    head, rest = doc.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    return f"{head}{TABLE_START}\n{table}\n{TABLE_END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the table in {COST_DOC}")
    args = parser.parse_args(argv)
    workload = Workload()
    table = render(estimate(workload, TemplateFacts.read()), workload)
    if args.write:
        COST_DOC.write_text(rewrite_doc(COST_DOC.read_text(), table))
    else:
        sys.stdout.write(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
