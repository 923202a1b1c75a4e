"""pipeline_monitor test support: sample events, moto-backed AWS, the local Slack sink wired in."""

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from datalake_shared.event_publisher import EventPublisher
from datalake_shared.slack import (
    IdempotentSlackPoster,
    RetryPolicy,
    SecretWebhookUrl,
    SlackWebhook,
)
from pipeline_monitor.announcer import EventBridgeRecordAnnouncer
from pipeline_monitor.records import Severity
from pipeline_monitor.service import PipelineMonitor
from pipeline_monitor.store import S3MonitorStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient

from eventbridge_fake import FakeEventsClient
from lambda_support import (  # noqa: F401 - re-exported for the tests
    CapturedLogs,
    FakeLambdaContext,
    MetricsReader,
    load_handler_module,
    load_sample_event,
)

ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = ROOT / "events" / "pipeline_monitor"
BUCKET = "datalake-events-monitor-example"
PREFIX = "monitoring-events/"
TABLE = "datalake-events-idempotency"
SECRET_NAME = "datalake-events/slack-webhook"
KEY_PREFIX = "pipeline-monitor-slack"

app = load_handler_module("pipeline_monitor")


@dataclass(frozen=True)
class Context(FakeLambdaContext):
    """A Lambda context with the remaining time Powertools idempotency reads."""

    remaining_ms: int = 30_000


def load_event(name: str) -> dict[str, Any]:
    return load_sample_event("pipeline_monitor", name)


def sns_message(name: str) -> str:
    message: str = load_event(name)["Records"][0]["Sns"]["Message"]
    return message


def sns_event_of(message: dict[str, Any] | str, message_id: str = "m-1") -> dict[str, Any]:
    """The glue_job_failed sample's SNS envelope around another message."""
    event = copy.deepcopy(load_event("glue_job_failed.json"))
    sns = event["Records"][0]["Sns"]
    sns["Message"] = message if isinstance(message, str) else json.dumps(message)
    sns["MessageId"] = message_id
    return event


def eventbridge_message(name: str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(sns_message(name))
    return message


@dataclass
class Aws:
    s3: "S3Client"
    dynamodb: "DynamoDBClient"
    secrets: "SecretsManagerClient"

    def stored_keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def stored_records(self) -> list[dict[str, Any]]:
        records = []
        for key in self.stored_keys():
            body = self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
            records.extend(json.loads(line) for line in body.splitlines())
        return records

    def idempotency_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=TABLE)["Items"])


@dataclass
class Sleeps:
    """Stands in for time.sleep: records the waits, never waits."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def slack_poster(
    aws: Aws,
    sleeps: Sleeps,
    policy: RetryPolicy | None = None,
    jitter: Any = None,
) -> IdempotentSlackPoster:
    """The production poster: URL from the (moto) secret through Powertools, idempotency on the
    (moto) table; only the sleep is a recorder. Jitter defaults to the full ceiling (no random)."""
    webhook = SlackWebhook(
        SecretWebhookUrl(SECRET_NAME, allow_local=True),
        policy=policy or RetryPolicy(max_attempts=3, max_total_s=60),
        sleep=sleeps,
        jitter=jitter or (lambda ceiling: ceiling),
    )
    return IdempotentSlackPoster(
        webhook,
        DynamoDBPersistenceLayer(table_name=TABLE, boto3_client=aws.dynamodb),
        key_prefix=KEY_PREFIX,
    )


def monitor_with(
    aws: Aws,
    poster: Any,
    events: FakeEventsClient,
    alert_on: Sequence[Severity] = (Severity.ERROR,),
    store: Any = None,
) -> PipelineMonitor:
    return PipelineMonitor(
        store=store or S3MonitorStore(BUCKET, PREFIX, client=aws.s3),
        poster=poster,
        announcer=EventBridgeRecordAnnouncer(
            EventPublisher(
                "pipeline-monitor", "datalake-bus", client=cast("EventBridgeClient", events)
            ),
            BUCKET,
        ),
        alert_on=frozenset(alert_on),
    )
