"""datalake_shared.slack.posters: each alert posted once through Powertools idempotency (against
moto DynamoDB and the local Slack sink), and the poster the alerting functions build from their
settings."""

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyKeyError
from lambda_support import FakeLambdaContext
from moto_dynamodb import template_tables

from datalake_shared.settings import SlackAlertSettings
from datalake_shared.slack import (
    AlertOutcome,
    HttpAnswer,
    IdempotentSlackPoster,
    RetryPolicy,
    SlackWebhook,
    WebhookConfigError,
    WebhookUrl,
    slack_poster_from_settings,
)
from local_runtime.slack_sink import SinkAnswer, SlackSink

TABLE = "idempotency"
# Most posts here run outside an invocation on purpose (no Lambda context registered).
pytestmark = pytest.mark.filterwarnings("ignore:Couldn't determine the remaining time:UserWarning")
SECRET = "datalake-events/slack-webhook"
PAYLOAD = {
    "text": "Glue job orders-merge failed",
    "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "failed"}}],
}
DAY_S = 86_400


@pytest.fixture
def table(sam_template: dict[str, Any]) -> Iterator[Any]:
    """The template's alert idempotency table, fresh, in moto."""
    parameters.clear_caches()
    with template_tables(sam_template, {"AlertIdempotencyTable": TABLE}) as client:
        yield client
    parameters.clear_caches()


def items(table: Any) -> list[dict[str, Any]]:
    return list(table.scan(TableName=TABLE)["Items"])


def webhook_to(sink: SlackSink) -> SlackWebhook:
    url = WebhookUrl(sink.url, "127.0.0.1")
    return SlackWebhook(lambda: url, sleep=lambda _: None, jitter=lambda ceiling: ceiling)


def poster_over(webhook: SlackWebhook, table: Any) -> IdempotentSlackPoster:
    persistence = DynamoDBPersistenceLayer(table_name=TABLE, boto3_client=table)
    return IdempotentSlackPoster(webhook, persistence, key_prefix="test-alerts")


# ------------------------------------------------------------------------------ what is posted


def test_alert_payload_reaches_slack_as_given(sink: SlackSink, table: Any) -> None:
    # Given a poster over the idempotency table / When an alert is posted
    outcome = poster_over(webhook_to(sink), table).post("evt-1", PAYLOAD)
    # Then Slack received exactly the payload, once, and the outcome says so
    assert sink.bodies() == [PAYLOAD]
    assert outcome == AlertOutcome("evt-1", posted=True, attempts=1)


def test_outcome_counts_the_attempts_the_post_took(sink: SlackSink, table: Any) -> None:
    # Given Slack rate limiting the first attempt
    sink.script(SinkAnswer.rate_limited(1))
    # When an alert is posted / Then the outcome counts both attempts
    outcome = poster_over(webhook_to(sink), table).post("evt-1", PAYLOAD)
    assert outcome == AlertOutcome("evt-1", posted=True, attempts=2)


def test_duplicate_outcome_posts_nothing(sink: SlackSink, table: Any) -> None:
    # Given an alert already posted
    poster = poster_over(webhook_to(sink), table)
    poster.post("evt-1", PAYLOAD)
    # When it is delivered again / Then it is reported as not posted, with no attempt
    assert poster.post("evt-1", PAYLOAD) == AlertOutcome("evt-1", posted=False)
    assert len(sink.received) == 1


def test_alert_without_an_id_is_refused_unposted(sink: SlackSink, table: Any) -> None:
    # Given a poster / When an alert with an empty id is posted
    with pytest.raises(IdempotencyKeyError):
        poster_over(webhook_to(sink), table).post("", PAYLOAD)
    # Then nothing reached Slack (without an id it could not be posted only once)
    assert sink.received == []


# ------------------------------------------------------------------------------ the record


def test_idempotency_is_keyed_on_the_alert_id_for_a_day(sink: SlackSink, table: Any) -> None:
    # Given a poster
    poster = poster_over(webhook_to(sink), table)
    # Then it is configured to key on the alert id, refuse a missing key and keep a day
    assert poster.config.event_key_jmespath == "alert_id"
    assert poster.config.raise_on_no_idempotency_key is True
    assert poster.config.expires_after_seconds == DAY_S


def test_posted_alert_is_remembered_for_a_day(sink: SlackSink, table: Any) -> None:
    # Given a poster / When an alert is posted
    before = int(time.time())
    poster_over(webhook_to(sink), table).post("evt-1", PAYLOAD)
    after = int(time.time()) + 1
    # Then its completed record, under the key prefix, holds what the post did and expires
    # 24 h after it
    [item] = items(table)
    assert item["id"]["S"].startswith("test-alerts#")
    assert item["status"]["S"] == "COMPLETED"
    assert json.loads(item["data"]["S"]) == {"alert_id": "evt-1", "status": 200, "attempts": 1}
    assert before + DAY_S <= int(item["expiration"]["N"]) <= after + DAY_S


def test_in_progress_record_expires_with_the_invocation(table: Any) -> None:
    # Given a poster told the Lambda context, whose post reads the record while sending
    during_post: list[dict[str, Any]] = []

    def transport(url: str, body: bytes, timeout: float) -> HttpAnswer:
        during_post.extend(items(table))
        return HttpAnswer(200, {}, "ok")

    url = WebhookUrl("https://hooks.slack.com/services/T/B/x", "hooks.slack.com")
    poster = poster_over(SlackWebhook(lambda: url, transport=transport), table)
    poster.register_lambda_context(FakeLambdaContext(remaining_ms=30_000))  # type: ignore[arg-type]
    # When an alert is posted
    before_ms = int(time.time() * 1000)
    poster.post("evt-1", PAYLOAD)
    after_ms = int(time.time() * 1000) + 1
    # Then the in-progress record expired with the invocation's remaining 30 s
    [item] = during_post
    assert item["status"]["S"] == "INPROGRESS"
    expiry = int(item["in_progress_expiration"]["N"])
    assert before_ms + 30_000 <= expiry <= after_ms + 30_000


def test_context_without_remaining_time_is_not_registered(sink: SlackSink, table: Any) -> None:
    # Given a poster handed a context that cannot tell its remaining time
    poster = poster_over(webhook_to(sink), table)
    poster.register_lambda_context(object())  # type: ignore[arg-type]
    # When an alert is posted / Then it goes through, with no in-progress expiry recorded
    assert poster.post("evt-1", PAYLOAD).posted
    [item] = items(table)
    assert "in_progress_expiration" not in item


# ------------------------------------------------------------------------------ from settings


def settings_for(*, allow_local: bool) -> SlackAlertSettings:
    return SlackAlertSettings.model_validate(
        {
            "SLACK_WEBHOOK_SECRET": SECRET,
            "IDEMPOTENCY_TABLE": TABLE,
            "SLACK_ALLOW_LOCAL_WEBHOOK": allow_local,
        }
    )


def test_poster_from_settings_posts_to_the_secrets_webhook_once(
    sink: SlackSink, table: Any
) -> None:
    # Given the settings' secret holding the (local) webhook URL and their idempotency table
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=sink.url)
    poster = slack_poster_from_settings(settings_for(allow_local=True), "monitor-slack")
    # When the same alert is posted twice
    outcomes = [poster.post("evt-1", PAYLOAD), poster.post("evt-1", PAYLOAD)]
    # Then Slack got it once, recorded in the table under the key prefix
    assert sink.bodies() == [PAYLOAD]
    assert [outcome.posted for outcome in outcomes] == [True, False]
    [item] = items(table)
    assert item["id"]["S"].startswith("monitor-slack#")


def test_poster_from_settings_refuses_a_local_webhook_unless_allowed(
    sink: SlackSink, table: Any
) -> None:
    # Given the secret holding a loopback URL, local webhooks not allowed
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=sink.url)
    poster = slack_poster_from_settings(settings_for(allow_local=False), "monitor-slack")
    # When an alert is posted / Then the URL is refused and nothing is sent
    with pytest.raises(WebhookConfigError, match="SLACK_ALLOW_LOCAL_WEBHOOK"):
        poster.post("evt-1", PAYLOAD)
    assert sink.received == []


def test_poster_from_settings_uses_the_given_retry_policy(table: Any) -> None:
    # Given a retry policy / When the poster is built with it, or without one
    policy = RetryPolicy(max_attempts=2, max_total_s=5)
    given = slack_poster_from_settings(settings_for(allow_local=False), "p", policy)
    default = slack_poster_from_settings(settings_for(allow_local=False), "p")
    # Then its webhook retries by that policy, else by the default one
    assert given.webhook.policy == policy
    assert default.webhook.policy == RetryPolicy()
