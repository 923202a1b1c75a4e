"""What the alerting functions' tests share: Slack posters, recorded sleeps, their AWS in moto."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from lambda_support import create_template_table
from moto import mock_aws

from datalake_shared.slack import (
    AlertOutcome,
    IdempotentSlackPoster,
    RetryPolicy,
    SecretWebhookUrl,
    SlackWebhook,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient

IDEMPOTENCY_TABLE = "datalake-events-idempotency"
WEBHOOK_SECRET = "datalake-events/slack-webhook"


@dataclass
class RecordingPoster:
    """A Slack poster that posts nothing: what alerting code hands it, for the tests to read."""

    posts: list[tuple[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def post(self, alert_id: str, payload: Any) -> AlertOutcome:
        self.posts.append((alert_id, payload))
        return AlertOutcome(alert_id, posted=True, attempts=1)

    def register_lambda_context(self, context: Any) -> None:
        self.contexts.append(context)

    @property
    def posted(self) -> list[str]:
        return [alert_id for alert_id, _ in self.posts]


@dataclass
class Sleeps:
    """Stands in for time.sleep: records the waits, never waits."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@cache
def _clients() -> tuple["S3Client", "DynamoDBClient", "SecretsManagerClient"]:
    # Made once per run: moto intercepts them inside each test's own mock_aws().
    return boto3.client("s3"), boto3.client("dynamodb"), boto3.client("secretsmanager")


@dataclass(frozen=True)
class AlertAws:
    """An alerting function's AWS in moto: its records' bucket, the idempotency table and the
    webhook secret."""

    bucket: str
    s3: "S3Client"
    dynamodb: "DynamoDBClient"
    secrets: "SecretsManagerClient"

    def stored_keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def stored(self) -> dict[str, list[dict[str, Any]]]:
        """Key -> the JSON lines of the object."""
        return {
            key: [
                json.loads(line)
                for line in self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
                .read()
                .decode()
                .splitlines()
            ]
            for key in self.stored_keys()
        }

    def stored_records(self) -> list[dict[str, Any]]:
        """Every JSON line of every object, by key."""
        return [record for records in self.stored().values() for record in records]

    def idempotency_items(self) -> list[dict[str, Any]]:
        return list(self.dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"])


@contextmanager
def alert_aws(bucket: str, template: dict[str, Any], webhook_url: str) -> Iterator[AlertAws]:
    """A fresh moto world: ``bucket``, the idempotency table as the template declares it and the
    webhook secret holding ``webhook_url``. Powertools' parameter cache is emptied too."""
    aws = AlertAws(bucket, *_clients())
    parameters.clear_caches()
    with mock_aws():
        aws.s3.create_bucket(Bucket=bucket)
        create_template_table(aws.dynamodb, template, "AlertIdempotencyTable", IDEMPOTENCY_TABLE)
        aws.secrets.create_secret(Name=WEBHOOK_SECRET, SecretString=webhook_url)
        yield aws
    parameters.clear_caches()


def idempotent_poster(
    aws: AlertAws, sleeps: Sleeps, key_prefix: str, policy: RetryPolicy
) -> IdempotentSlackPoster:
    """The production poster: URL from the (moto) secret through Powertools, idempotency on the
    (moto) table; only the sleep is a recorder, and jitter is the full ceiling (no random)."""
    webhook = SlackWebhook(
        SecretWebhookUrl(WEBHOOK_SECRET, allow_local=True),
        policy=policy,
        sleep=sleeps,
        jitter=lambda ceiling: ceiling,
    )
    return IdempotentSlackPoster(
        webhook,
        DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE, boto3_client=aws.dynamodb),
        key_prefix=key_prefix,
    )
