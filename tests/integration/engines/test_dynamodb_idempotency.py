"""Powertools idempotency as the alerting functions use it (datalake_shared.slack's
IdempotentSlackPoster over DynamoDBPersistenceLayer, built by pipeline_monitor and
redshift_audit), on DynamoDB Local with the idempotency table exactly as template.yaml declares
it: each alert is posted once, a failed post can be retried, a concurrent delivery backs off."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from lambda_support import FakeLambdaContext
from mypy_boto3_dynamodb import DynamoDBClient

from datalake_shared.slack import IdempotentSlackPoster, PostResult
from tests.integration.engines.dynamodb_support import scan_all

CONTEXT = FakeLambdaContext(function_name="pipeline-monitor")


@dataclass
class RecordingWebhook:
    """Stands in for Slack: records posts; ``fail_next`` posts raise; ``during_post`` runs
    while a post is in flight (to deliver a duplicate at that moment)."""

    posts: list[Mapping[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    during_post: Callable[[], object] | None = None

    def post(self, payload: Mapping[str, Any]) -> PostResult:
        if self.during_post is not None:
            during, self.during_post = self.during_post, None
            during()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("Slack answered 500")
        self.posts.append(payload)
        return PostResult(status=200, attempts=1)


@pytest.fixture
def idempotency_table(template_table: Callable[[str], str]) -> str:
    return template_table("AlertIdempotencyTable")


@pytest.fixture
def webhook() -> RecordingWebhook:
    return RecordingWebhook()


def poster(
    dynamodb: DynamoDBClient, table: str, webhook: RecordingWebhook, prefix: str = "monitor"
) -> IdempotentSlackPoster:
    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)
    alerts = IdempotentSlackPoster(webhook, persistence, key_prefix=prefix)  # type: ignore[arg-type]
    alerts.register_lambda_context(CONTEXT)  # type: ignore[arg-type]
    return alerts


def test_an_alert_is_posted_and_its_record_completed(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given no record of the alert / When it is posted
    outcome = poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    # Then Slack got it once and the record is COMPLETED, keyed under the function's prefix,
    # expiring a day later
    assert (outcome.posted, webhook.posts) == (True, [{"text": "failed"}])
    [record] = scan_all(dynamodb, idempotency_table)
    assert record["status"] == {"S": "COMPLETED"}
    assert record["id"]["S"].startswith("monitor#")
    assert int(record["expiration"]["N"]) - time.time() == pytest.approx(86_400, abs=120)


def test_a_redelivered_alert_is_not_posted_again(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given an alert posted by an earlier delivery (another sandbox: a new poster)
    poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    # When it is delivered again
    outcome = poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    # Then Slack is not called a second time
    assert outcome.posted is False
    assert len(webhook.posts) == 1


def test_a_failed_post_leaves_no_record_so_the_retry_posts(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given Slack failing the first post
    webhook.fail_next = 1
    alerts = poster(dynamodb, idempotency_table, webhook)
    with pytest.raises(RuntimeError, match="500"):
        alerts.post("alert-1", {"text": "failed"})
    # When the invocation's retry posts again
    assert scan_all(dynamodb, idempotency_table) == []
    outcome = alerts.post("alert-1", {"text": "failed"})
    # Then it is posted
    assert (outcome.posted, len(webhook.posts)) == (True, 1)


def test_a_duplicate_delivered_during_the_post_backs_off(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given a duplicate delivery that arrives while the first one is posting
    duplicates: list[Any] = []
    webhook.during_post = lambda: duplicates.append(
        poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    )
    # When the first delivery posts
    first = poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    # Then the duplicate found the record INPROGRESS (live until the invocation's end) and left
    # the post to its owner
    assert first.posted is True
    assert [(d.posted, d.in_progress_elsewhere) for d in duplicates] == [(False, True)]
    assert len(webhook.posts) == 1


def test_an_expired_record_lets_the_alert_post_again(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given an alert posted, whose record has expired
    poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    [record] = scan_all(dynamodb, idempotency_table)
    dynamodb.update_item(
        TableName=idempotency_table,
        Key={"id": record["id"]},
        UpdateExpression="SET #expiration = :past",
        ExpressionAttributeNames={"#expiration": "expiration"},
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 60)}},
    )
    # When it is delivered again / Then the conditional put takes over the record and posts
    outcome = poster(dynamodb, idempotency_table, webhook).post("alert-1", {"text": "failed"})
    assert (outcome.posted, len(webhook.posts)) == (True, 2)


def test_the_two_alerting_functions_keep_apart_in_one_table(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given the monitor and the audit posting the same alert id to the shared table
    poster(dynamodb, idempotency_table, webhook, "pipeline-monitor-slack").post("a", {"n": 1})
    # When the audit posts it / Then it is its own alert, posted too
    outcome = poster(dynamodb, idempotency_table, webhook, "redshift-audit-slack").post(
        "a", {"n": 2}
    )
    assert outcome.posted is True
    assert len(scan_all(dynamodb, idempotency_table)) == 2


def test_a_long_alert_id_keeps_the_record_small(
    dynamodb: DynamoDBClient, idempotency_table: str, webhook: RecordingWebhook
) -> None:
    # Given an alert id as long as redshift_audit's (log group of 512 characters and a hash)
    alert_id = "/aws/redshift/" + "g" * 498 + "|batch:" + "f" * 64
    # When posted / Then the record is keyed by a hash of it, far within DynamoDB's key limit
    assert poster(dynamodb, idempotency_table, webhook).post(alert_id, {"n": 1}).posted
    [record] = scan_all(dynamodb, idempotency_table)
    assert len(record["id"]["S"]) < 100
