"""Demo section: what pipeline_monitor made of the run's state changes (Glue job runs, state
machine executions, failed async invocations), including another team's Glue job watched through
MonitoredGlueJobs, what it posted to Slack (the local webhook sink), and Redshift
sensitive-query alerts."""

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, Final

from dev.demo.support import athena_rows
from dev.paths import ROOT
from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

BROKEN_CDC_FILE = "sales/orders/2026/11/23/20261123-120000000.csv"
REDSHIFT_EVENT = ROOT / "events" / "redshift_audit" / "user_activity_ddl.json"
GLUE_JOB_FAILED = ROOT / "events" / "pipeline_monitor" / "glue_job_failed.json"
# The demo's stack also watches the account's "etl-*" Glue jobs, another team's.
MONITORING_SCOPE: Final = {"MonitoredGlueJobs": "etl-*"}
WATCHED_JOB: Final = "etl-orders"
UNWATCHED_JOB: Final = "billing-daily"


def break_a_batch(runtime: "LocalRuntime") -> dict[str, Any]:
    """Lands a CDC file the merge job cannot read and runs the hourly cadence: the Glue run
    fails, and so does the batch run's execution (it reports failed batches at the end)."""
    runtime.s3.put_object(
        Bucket=runtime.outputs["StagingBucketName"],
        Key=BROKEN_CDC_FILE,
        Body=b'X,"unterminated\n',
    )
    runtime.settle()
    arn = runtime.fire_schedule("hourly")
    runtime.settle()
    return runtime.stepfunctions_bridge.describe(arn)


def fail_external_jobs(runtime: "LocalRuntime") -> list[str]:
    """Two Glue jobs the stack does not own fail, as Glue reports it on the default bus: one in
    the MonitoredGlueJobs scope, one outside it. Returns the jobs a monitoring rule routed."""
    sns_record = json.loads(GLUE_JOB_FAILED.read_text())["Records"][0]
    event = json.loads(sns_record["Sns"]["Message"])
    entries = [
        {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Resources": event["resources"],
            "Detail": json.dumps({**event["detail"], "jobName": job, "jobRunId": f"jr_{job}"}),
        }
        for job in (WATCHED_JOB, UNWATCHED_JOB)
    ]
    runtime.client("events").put_events(Entries=entries)
    runtime.settle()
    routed = {
        route.event["detail"]["jobName"]
        for route in runtime.activity.routed
        if route.via.endswith("GlueJobStateRule") and isinstance(route.event, dict)
    }
    return [job for job in (WATCHED_JOB, UNWATCHED_JOB) if job in routed]


def _slack_text(post: Any) -> str:
    blocks = post.get("blocks", []) if isinstance(post, dict) else []
    header = next((b for b in blocks if b.get("type") == "header"), None)
    if header:
        return str(header["text"]["text"])
    return str(post.get("text", ""))[:70] if isinstance(post, dict) else ""


def run(runtime: "LocalRuntime", broken_run: dict[str, Any]) -> None:
    audit_event = json.loads(REDSHIFT_EVENT.read_text())
    # What the CloudWatch Logs subscription (RedshiftUserActivityLogGroup) would deliver.
    runtime.lambda_bridge.submit("RedshiftAuditFunction", audit_event, trigger="log subscription")
    runtime.settle()
    routed = fail_external_jobs(runtime)

    headers, rows = athena_rows(
        runtime,
        "SELECT service, resource, state, severity FROM monitoring_events "
        "ORDER BY event_time, service, resource",
    )
    print(
        f"\n6. Monitoring: a broken CDC file made a batch run fail ({broken_run['status']}); "
        f"pipeline_monitor stored {len(rows)} event(s) for Athena (monitoring_events):"
    )
    counted = Counter(tuple(row) for row in rows)
    print(table([*headers, "events"], [[*row, n] for row, n in sorted(counted.items())]))
    scope = MONITORING_SCOPE["MonitoredGlueJobs"]
    print(
        f"   Another team's jobs failed too: {WATCHED_JOB} (MonitoredGlueJobs={scope}) was "
        f"{'watched' if WATCHED_JOB in routed else 'NOT watched'}, {UNWATCHED_JOB} (outside "
        f"the scope) {'was watched' if UNWATCHED_JOB in routed else 'was not'}."
    )

    posts = runtime.slack_bridge.sink.bodies()
    print(f"\n   Posted to Slack (local webhook sink {runtime.slack_bridge.sink.url}):")
    print(table(["#", "message"], [[i + 1, _slack_text(p)] for i, p in enumerate(posts)]))

    headers, rows = athena_rows(
        runtime, "SELECT user, category, statement_type, object_name FROM redshift_audit"
    )
    print("\n   Redshift user activity → sensitive statements (redshift_audit):")
    print(table(headers, rows))
