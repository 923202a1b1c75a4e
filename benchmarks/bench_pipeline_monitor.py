"""pipeline_monitor: handler throughput and cold import, each next to the source post's approach.

- ``pipeline_monitor.events_per_s``: ``app.lambda_handler`` over SNS events shaped like
  events/pipeline_monitor/ (the ten samples with fresh event ids: seven failures that are posted,
  three events that are only stored), one event per invocation as SNS delivers them. Real
  normalization, Block Kit rendering, S3 adapter, EventBridge announcer, Slack client (retry
  loop, JSON encoding) and Powertools idempotency, over in-memory fakes: an S3 client, an
  EventBridge client, an idempotency persistence layer and a Slack transport answering 200 "ok";
  the secret's value comes from a function standing in for Powertools' cached ``get_secret``
  (parsed and validated as in production). Logs and EMF metrics go to /dev/null.
  Baseline, same events, same run: the post's approach ported as a naive handler: json-parse
  the message, pick the service from ``source``, read the secret from Secrets Manager on every
  failure (an in-memory client), post ``{"text": ...}`` through the same fake transport, write
  the record to S3 under a random uuid key (same fake client), no idempotency, no retries.
- ``pipeline_monitor.cold_import_ms`` is measured from the built artifact by bench_cold_start.
"""

import copy
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from lambda_support import FakeLambdaContext

from benchmarks.in_memory_aws import AcceptingEventsClient, InMemoryS3Client
from benchmarks.lambda_harness import handler_module, head_to_head
from benchmarks.results import ROOT, BenchResult

EVENTS_DIR = ROOT / "events" / "pipeline_monitor"
ROUNDS = 40
# Never called: the benchmark's Slack transport is a fake. Slack's documentation placeholder.
WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"


def sns_events() -> list[dict[str, Any]]:
    """ROUNDS copies of every sample, each with its own event / request id."""
    samples = [json.loads(path.read_text()) for path in sorted(EVENTS_DIR.glob("*.json"))]
    events = []
    for round_number in range(ROUNDS):
        for position, sample in enumerate(samples):
            n = round_number * len(samples) + position
            event = copy.deepcopy(sample)
            sns = event["Records"][0]["Sns"]
            message = json.loads(sns["Message"])
            if "id" in message:
                message["id"] = str(uuid.UUID(int=n))
            elif "requestContext" in message:
                message["requestContext"]["requestId"] = str(uuid.UUID(int=n))
            elif "StateChangeTime" in message:
                message["StateChangeTime"] = (
                    f"2026-11-20T10:{n // 60 % 60:02d}:{n % 60:02d}.000+0000"
                )
            sns["Message"] = json.dumps(message, separators=(",", ":"))
            sns["MessageId"] = str(uuid.UUID(int=10**9 + n))
            events.append(event)
    return events


# ------------------------------------------------------------------------------ in-memory fakes


class InMemorySecrets:
    def __init__(self) -> None:
        self.calls = 0

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:
        self.calls += 1
        return {"SecretString": json.dumps({"slack_webhook": WEBHOOK})}


class SlackOk:
    """Stands in for hooks.slack.com: every POST answered 200 "ok"."""

    def __init__(self) -> None:
        self.posts = 0

    def __call__(self, url: str, body: bytes, timeout: float) -> Any:
        from datalake_shared.slack import HttpAnswer  # noqa: PLC0415

        self.posts += 1
        return HttpAnswer(200, {}, "ok")


class InMemoryIdempotency(BasePersistenceLayer):
    """Powertools idempotency records in a dict, with DynamoDB's conditional-put semantics."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        now = int(dt.datetime.now().timestamp())
        if existing is not None and (existing.expiry_timestamp or 0) > now:
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


# ------------------------------------------------------------------------------ the naive port


def naive_handler(
    event: dict[str, Any],
    context: object,
    s3: InMemoryS3Client,
    secrets: InMemorySecrets,
    post: Callable[[str, bytes, float], Any],
) -> dict[str, int]:
    """The post's approach: one service guess per message, secret read per failure, text post."""
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        if "source" in message:
            service = message["source"].split(".")[-1]
            detail = message.get("detail", {})
            state = str(detail.get("state") or detail.get("status") or "")
            name = detail.get("jobName") or detail.get("crawlerName") or detail.get("name", "")
            failed = state.upper() in {"FAILED", "TIMEOUT", "ERROR", "TIMED_OUT", "ALARM"}
        else:
            service = "lambda"
            state = message.get("requestContext", {}).get("condition", "")
            name = message.get("requestContext", {}).get("functionArn", "")
            failed = state != "Success"
        row = {"service_type": service, "event_type": state.lower(), "name": name}
        s3.put_object(Bucket="monitor", Key=f"monitor/{uuid.uuid4()}.json", Body=json.dumps(row))
        if failed:
            secret = json.loads(
                secrets.get_secret_value(SecretId="datalake-monitoring")["SecretString"]
            )
            text = f"{service} {name} {state}"
            post(secret["slack_webhook"], json.dumps({"text": text}).encode(), 5.0)
    return {"statusCode": 200}


# ------------------------------------------------------------------------------ measurements


def _handler_runs() -> list[BenchResult]:
    app = handler_module("pipeline_monitor")
    from datalake_shared.event_publisher import EventPublisher  # noqa: PLC0415
    from datalake_shared.slack import (  # noqa: PLC0415
        IdempotentSlackPoster,
        SecretWebhookUrl,
        SlackWebhook,
    )
    from pipeline_monitor.announcer import EventBridgeRecordAnnouncer  # noqa: PLC0415
    from pipeline_monitor.records import Severity  # noqa: PLC0415
    from pipeline_monitor.service import PipelineMonitor  # noqa: PLC0415
    from pipeline_monitor.store import S3MonitorStore  # noqa: PLC0415

    def cached_secret(name: str, max_age: int) -> str:
        """What Powertools' cached get_secret returns between refreshes."""
        return json.dumps({"webhook_url": WEBHOOK})

    events = sns_events()
    context = FakeLambdaContext()
    expected_posts = sum(
        1
        for event in events
        if "SUCCEEDED" not in event["Records"][0]["Sns"]["Message"]
        and "Glue Data Catalog" not in event["Records"][0]["Sns"]["Message"]
    )

    def ours() -> None:
        s3, bus, slack = InMemoryS3Client(), AcceptingEventsClient(), SlackOk()
        poster = IdempotentSlackPoster(
            SlackWebhook(SecretWebhookUrl("bench", fetch=cached_secret), transport=slack),
            InMemoryIdempotency(),
            key_prefix="bench",
        )
        monitor = PipelineMonitor(
            store=S3MonitorStore("monitor", "monitoring-events/", client=s3),  # type: ignore[arg-type]
            poster=poster,
            announcer=EventBridgeRecordAnnouncer(
                EventPublisher("pipeline-monitor", "bench", client=bus),  # type: ignore[arg-type]
                "monitor",
            ),
            alert_on=frozenset({Severity.ERROR}),
        )
        for event in events:
            app.lambda_handler(event, context, monitor=monitor)
        assert len(s3.objects) == len(events)
        assert slack.posts == expected_posts, (slack.posts, expected_posts)

    def naive() -> None:
        s3, secrets, slack = InMemoryS3Client(), InMemorySecrets(), SlackOk()
        for event in events:
            naive_handler(event, context, s3, secrets, slack)
        assert len(s3.objects) == len(events)

    timed = head_to_head(ours, naive)
    return [
        BenchResult(
            name="pipeline_monitor.events_per_s",
            value=len(events) / timed.ours_s,
            unit="events/s",
            better="higher",
            baseline=len(events) / timed.naive_s,
        )
    ]


def run() -> list[BenchResult]:
    return _handler_runs()
