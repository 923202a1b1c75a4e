"""redshift_audit test support: moto-backed AWS, the auditor wired to the local Slack sink."""

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from eventbridge_fake import FakeEventsClient
from lambda_support import (  # noqa: F401 - re-exported for the tests
    CapturedLogs,
    FakeLambdaContext,
    MetricsReader,
    load_handler_module,
    load_sample_event,
)
from redshift_audit_payloads import (  # noqa: F401 - re-exported for the tests
    ACCOUNT,
    CLUSTER,
    DDL_SAMPLE_MESSAGES,
    EVENTS_DIR,
    LOG_GROUP,
    activity_line,
    awslogs_event,
    data_message,
    decoded,
    event_with,
)

from datalake_shared.event_publisher import EventPublisher
from datalake_shared.slack import IdempotentSlackPoster, RetryPolicy, SecretWebhookUrl, SlackWebhook
from redshift_audit.alerts import render_batch_alert
from redshift_audit.announcer import EventBridgeAuditAnnouncer
from redshift_audit.service import RedshiftAuditor, time_needed_to_post
from redshift_audit.store import S3AuditStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient

app = load_handler_module("redshift_audit")


@dataclass
class Aws:
    s3: "S3Client"
    dynamodb: "DynamoDBClient"
    secrets: "SecretsManagerClient"

    def stored(self) -> dict[str, list[dict[str, Any]]]:
        """Key -> the JSON lines of the object."""
        listing = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {
            item["Key"]: [
                json.loads(line)
                for line in self.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"]
                .read()
                .decode()
                .splitlines()
            ]
            for item in listing
        }


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


BUCKET = "datalake-events-audit-example"
PREFIX = "redshift-audit/"
TABLE = "datalake-events-idempotency"
SECRET_NAME = "datalake-events/slack-webhook"


@dataclass(frozen=True)
class Context(FakeLambdaContext):
    """A Lambda context with the remaining time Powertools idempotency and the handler read."""

    remaining_ms: int = 55_000


def auditor_with(
    aws: Aws,
    sleeps: Sleeps,
    events: FakeEventsClient | None = None,
    ignore_users: frozenset[str] = frozenset({"rdsdb"}),
) -> RedshiftAuditor:
    """The production pieces over moto and the sink; only sleeping is recorded, not done."""
    policy = RetryPolicy(max_attempts=3)
    poster = IdempotentSlackPoster(
        SlackWebhook(
            SecretWebhookUrl(SECRET_NAME, allow_local=True),
            policy=policy,
            sleep=sleeps,
            jitter=lambda ceiling: ceiling,
        ),
        DynamoDBPersistenceLayer(table_name=TABLE, boto3_client=aws.dynamodb),
        key_prefix="redshift-audit-slack",
    )
    publisher = EventPublisher("redshift-audit", "bus", client=events or FakeEventsClient())  # type: ignore[arg-type]
    return RedshiftAuditor(
        store=S3AuditStore(BUCKET, PREFIX, client=aws.s3),
        poster=poster,
        announcer=EventBridgeAuditAnnouncer(publisher, BUCKET),
        render=render_batch_alert,
        post_time_needed_s=time_needed_to_post(policy, app.POST_MARGIN_S),
        ignore_users=ignore_users,
    )


def load_event(name: str) -> dict[str, Any]:
    return load_sample_event("redshift_audit", name)
