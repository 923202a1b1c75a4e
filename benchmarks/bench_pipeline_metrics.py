"""pipeline_metrics: S3 objects per 1,000 CodePipeline events and handler throughput, each next
to the source post's one-object-per-event approach measured on the same events.

The events: 1,000 CodePipeline state changes of simulated executions of three pipelines (pipeline,
stage and action events, some failed with a summary, some superseded), in time order, running
across midnight UTC, each the body of an SQS record shaped like events/pipeline_metrics/.

- ``pipeline_metrics.objects_per_1000_events``: ``put_object`` calls (counted on an in-memory S3
  client) when ``app.lambda_handler`` receives the events in SQS batches of BATCH_SIZE = 100,
  the template's PipelineMetricsBatchSize (with PipelineMetricsBatchingWindowSeconds, Lambda
  waits to fill them). One object per batch and UTC day: 10 batches, one of which straddles
  midnight. Baseline: the post's handler, a port run over the same events with the same fake
  S3: one ``put_object`` per event, keyed by the wall-clock time.
- ``pipeline_metrics.rows_per_s``: rows per second through ``app.lambda_handler`` with the real
  S3 store and EventBridge publisher over in-memory clients (parsing into typed models,
  dedup, CSV encoding, keys, "Pipeline Metrics Written" entries); logs go to /dev/null at the
  template's INFO level. Baseline, same run: the post's handler over the same events, one
  invocation per event, including the JSON parse of each event (Lambda's runtime parses the
  post's payload; ours parses the SQS body itself).
"""

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from lambda_support import FakeLambdaContext

from benchmarks.in_memory_aws import AcceptingEventsClient, InMemoryS3Client
from benchmarks.lambda_harness import handler_module, head_to_head
from benchmarks.results import ROOT, BenchResult

EVENTS = 1000
BATCH_SIZE = 100
SAMPLE = ROOT / "events" / "pipeline_metrics" / "execution_succeeded.json"
START = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # two hours before midnight UTC
DETAIL_TYPES = {
    "pipeline": "CodePipeline Pipeline Execution State Change",
    "stage": "CodePipeline Stage Execution State Change",
    "action": "CodePipeline Action Execution State Change",
}
STAGES = [
    ("Source", "Source", "Source", "CodeStarSourceConnection"),
    ("Build", "Build", "Build", "CodeBuild"),
    ("Test", "IntegrationTests", "Test", "CodeBuild"),
    ("Deploy", "DeployStack", "Deploy", "CloudFormation"),
]
PIPELINES = ["orders-service", "billing-api", "nightly-etl"]


def _event(n: int, level: str, moment: datetime, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.UUID(int=n)),
        "detail-type": DETAIL_TYPES[level],
        "source": "aws.codepipeline",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:codepipeline:us-east-1:123456789012:{detail['pipeline']}"],
        "detail": {**detail, "version": 3.0, "pipeline-execution-attempt": 1.0},
    }


def _execution(run: int, start: datetime, first_id: int) -> tuple[list[dict[str, Any]], datetime]:
    """One execution's events from ``start`` (every 7th fails in Test, every 11th is superseded
    after its source stage; each stage takes 45 s), and when it ended."""
    pipeline = PIPELINES[run % len(PIPELINES)]
    base = {"pipeline": pipeline, "execution-id": str(uuid.UUID(int=10**6 + run))}
    events: list[dict[str, Any]] = []
    moment = start

    def add(level: str, extra: dict[str, Any], moment: datetime) -> None:
        events.append(_event(first_id + len(events), level, moment, {**base, **extra}))

    add("pipeline", {"state": "STARTED"}, moment)
    final = "SUCCEEDED"
    for index, (stage, action, category, provider) in enumerate(STAGES):
        kind = {"owner": "AWS", "category": category, "provider": provider, "version": "1"}
        failing = run % 7 == 3 and stage == "Test"
        add("stage", {"stage": stage, "state": "STARTED"}, moment)
        add("action", {"stage": stage, "action": action, "state": "STARTED", "type": kind}, moment)
        moment += timedelta(seconds=45)
        result = {"external-execution-url": f"https://example.com/{pipeline}/{run}/{action}"}
        if failing:
            result |= {
                "external-execution-summary": f'Tests failed: "checkout, refund"\n{run}',
                "error-code": "JobFailed",
            }
        state = "FAILED" if failing else "SUCCEEDED"
        action_detail = {"stage": stage, "action": action, "state": state, "type": kind}
        add("action", action_detail | {"execution-result": result}, moment)
        add("stage", {"stage": stage, "state": state}, moment)
        if failing:
            final = "FAILED"
            break
        if run % 11 == 5 and index == 0:
            final = "SUPERSEDED"
            break
    add("pipeline", {"state": final}, moment)
    return events, moment


def codepipeline_events() -> list[dict[str, Any]]:
    """EVENTS state changes of consecutive executions, 20 s apart, from START."""
    events: list[dict[str, Any]] = []
    moment, run = START, 0
    while len(events) < EVENTS:
        execution, ended = _execution(run, moment, len(events))
        events += execution
        moment, run = ended + timedelta(seconds=20), run + 1
    return events[:EVENTS]


def sqs_batches(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as SQS records (sample shape), BATCH_SIZE per Lambda invocation."""
    template = json.loads(SAMPLE.read_text())["Records"][0]
    records = []
    for n, event in enumerate(events):
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.UUID(int=10**9 + n))
        record["body"] = json.dumps(event, separators=(",", ":"))
        records.append(record)
    return [
        {"Records": records[start : start + BATCH_SIZE]}
        for start in range(0, len(records), BATCH_SIZE)
    ]


def naive_handler(event: dict[str, Any], context: object, s3: InMemoryS3Client) -> None:
    """The post's handler: the event's fields joined by commas (no quoting), one object per
    event, keyed by the wall-clock time (two events in one microsecond overwrite each other)."""
    detail = event["detail"]
    row = [
        detail["pipeline"],
        event["time"],
        detail["state"],
        detail["execution-id"],
        detail.get("stage", ""),
        detail.get("action", ""),
    ]
    values = ",".join(str(value) for value in row)
    run_date = datetime.now().strftime("%Y-%m-%d_%H:%M:%S:%f")  # as in the post: local time
    s3.put_object(Bucket="metrics", Key=f"{run_date}.csv", Body=values)


def run() -> list[BenchResult]:
    # The function's own modules resolve through run.py's sys.path (one folder per function).
    app = handler_module("pipeline_metrics")
    from datalake_shared.event_publisher import EventPublisher  # noqa: PLC0415
    from pipeline_metrics.announcer import EventBridgeWrittenPublisher  # noqa: PLC0415
    from pipeline_metrics.service import MetricsWriter  # noqa: PLC0415
    from pipeline_metrics.store import S3MetricsStore  # noqa: PLC0415

    events = codepipeline_events()
    batches = sqs_batches(events)
    raw_events = [json.dumps(event, separators=(",", ":")) for event in events]
    context = FakeLambdaContext()

    def ours() -> int:
        s3, bus = InMemoryS3Client(), AcceptingEventsClient()
        writer = MetricsWriter(
            S3MetricsStore("metrics", client=s3),  # type: ignore[arg-type]
            EventBridgeWrittenPublisher(
                EventPublisher("pipeline-metrics", "bench", client=bus)  # type: ignore[arg-type]
            ),
            "pipeline-metrics/",
        )
        for batch in batches:
            response = app.lambda_handler(batch, context, writer=writer)
            assert not response["batchItemFailures"]
        rows = sum(body.count(b"\n") - 1 for body in s3.objects.values())
        assert rows == EVENTS
        assert bus.entries == s3.calls["PutObject"]
        return s3.calls["PutObject"]

    def naive() -> int:
        s3 = InMemoryS3Client()
        for raw in raw_events:
            naive_handler(json.loads(raw), context, s3)
        return s3.calls["PutObject"]

    timed = head_to_head(ours, naive)
    return [
        BenchResult(
            name="pipeline_metrics.objects_per_1000_events",
            value=timed.ours * 1000 / EVENTS,
            unit="objects",
            better="lower",
            baseline=timed.naive * 1000 / EVENTS,
        ),
        BenchResult(
            name="pipeline_metrics.rows_per_s",
            value=EVENTS / timed.ours_s,
            unit="rows/s",
            better="higher",
            baseline=EVENTS / timed.naive_s,
        ),
    ]
