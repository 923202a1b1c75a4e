"""datalake_shared.slack: the webhook URL from its secret, the post with retries (against a real
HTTP server on 127.0.0.1), the once-per-alert poster, and the Block Kit helpers."""

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from alert_fakes import RecordingPoster
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from hypothesis import given, settings
from hypothesis import strategies as st
from lambda_support import CapturedLogs, FakeLambdaContext
from moto import mock_aws

from datalake_shared.slack import (
    CODE_BLOCK_LIMIT,
    HttpAnswer,
    IdempotentSlackPoster,
    LazySlackPoster,
    RetryPolicy,
    SecretWebhookUrl,
    SlackPostError,
    SlackWebhook,
    WebhookConfigError,
    WebhookNotConfiguredError,
    WebhookUrl,
    code_block,
    escape_mrkdwn,
    parse_retry_after,
    truncate,
    urllib_transport,
    validate_webhook_url,
    webhook_url_from_secret,
)
from local_runtime.slack_sink import SinkAnswer, SlackSink

SLACK_URL = "https://hooks.slack.com/services/T0AAA0AAA/B0BBB0BBB/abcdefghijklmnopqrstuvwx"
PAYLOAD = {
    "text": "hello",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}
TABLE = "idempotency"


@dataclass
class Recorder:
    """Stands in for time.sleep and time.monotonic: waits are recorded and advance the clock."""

    now: float = 0.0
    waits: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def webhook_to(
    sink: SlackSink, recorder: Recorder, policy: RetryPolicy | None = None
) -> SlackWebhook:
    """A webhook posting to the sink; jitter pinned to its ceiling so waits are predictable."""
    url = validate_webhook_url(sink.url, allow_local=True)
    return SlackWebhook(
        lambda: url,
        policy=policy or RetryPolicy(),
        sleep=recorder.sleep,
        clock=recorder.clock,
        jitter=lambda ceiling: ceiling,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ------------------------------------------------------------------------------ the URL


def test_slack_https_url_is_accepted_and_prints_as_its_host() -> None:
    # Given a Slack webhook URL / When validated
    url = validate_webhook_url(SLACK_URL)
    # Then it is kept whole, but printing it shows the host only
    assert url.value == SLACK_URL
    assert url.host == "hooks.slack.com"
    assert "abcdefghij" not in repr(url) + str(url) + f"{url}"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.slack.com/services/T/B/x", "https"),
        ("https://hooks.slack.com.evil.example/services/T/B/x", "not a Slack webhook host"),
        ("https://example.com/services/T/B/x", "not a Slack webhook host"),
        ("https://user:pw@hooks.slack.com/services/T/B/x", "user information"),
        ("https://hooks.slack.com:8443/services/T/B/x", "port 8443"),
        ("https://hooks.slack.com", "no path"),
        ("https://hooks.slack.com/services/T/B/x y", "whitespace"),
        ("", "empty"),
        ("ftp://127.0.0.1/x", "not http"),
    ],
)
def test_unusable_urls_are_refused_without_repeating_them(url: str, problem: str) -> None:
    # Given a URL that is not a Slack webhook / When validated
    with pytest.raises(WebhookConfigError, match=problem) as raised:
        validate_webhook_url(url, allow_local=True)
    # Then the error says why, and never holds the path (where the token is)
    assert "/services/" not in str(raised.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_url_needs_the_local_flag(host: str) -> None:
    # Given the local sink's kind of URL
    url = f"http://{host}:8080/services/T/B/x"
    # When validated without and with the flag / Then it is refused, then accepted
    with pytest.raises(WebhookConfigError, match="SLACK_ALLOW_LOCAL_WEBHOOK"):
        validate_webhook_url(url)
    assert validate_webhook_url(url, allow_local=True).value == url


@pytest.mark.parametrize(
    "secret",
    [
        SLACK_URL,
        f"  {SLACK_URL}\n",
        json.dumps({"webhook_url": SLACK_URL}),
        json.dumps({"slack_webhook": SLACK_URL, "channel": "#alerts"}),
    ],
)
def test_secret_may_hold_the_url_or_json_with_it(secret: str) -> None:
    # Given the secret in one of its accepted forms / Then the URL comes out
    assert webhook_url_from_secret(secret).value == SLACK_URL


@pytest.mark.parametrize(
    "secret",
    ['{"url": "https://hooks.slack.com/services/T/B/x"}', "{not json", '{"webhook_url": 3}'],
)
def test_secret_json_without_a_url_is_refused(secret: str) -> None:
    # Given JSON without a usable URL key / Then it is refused without echoing the secret
    with pytest.raises(WebhookConfigError) as raised:
        webhook_url_from_secret(secret)
    assert "hooks.slack.com/services" not in str(raised.value)


@pytest.mark.parametrize("secret", ["", "  ", '{"webhook_url": ""}', '{"webhook_url": null}'])
def test_empty_secret_means_not_configured_yet(secret: str) -> None:
    # Given the secret the stack creates before anyone sets the URL / Then it says so
    with pytest.raises(WebhookNotConfiguredError):
        webhook_url_from_secret(secret)


def test_secret_is_read_through_powertools_and_cached() -> None:
    # Given the webhook secret in (moto) Secrets Manager
    parameters.clear_caches()
    with mock_aws():
        client = boto3.client("secretsmanager")
        client.create_secret(Name="slack", SecretString=json.dumps({"webhook_url": SLACK_URL}))
        source = SecretWebhookUrl("slack", max_age=300)
        first = source()
        # When the secret changes within max_age
        client.put_secret_value(SecretId="slack", SecretString="https://hooks.slack.com/new/x")
        second = source()
    parameters.clear_caches()
    # Then the cached value is served (one GetSecretValue per max_age)
    assert first.value == second.value == SLACK_URL


# ------------------------------------------------------------------------------ the post


def test_payload_arrives_as_json(sink: SlackSink, recorder: Recorder) -> None:
    # Given a webhook to the local sink / When a payload is posted
    result = webhook_to(sink, recorder).post(PAYLOAD)
    # Then the server received exactly that JSON, once, as application/json
    assert sink.bodies() == [PAYLOAD]
    assert sink.received[0].headers["Content-Type"].startswith("application/json")
    assert (result.status, result.attempts) == (200, 1)


def test_rate_limit_waits_exactly_retry_after(sink: SlackSink, recorder: Recorder) -> None:
    # Given Slack answering 429 Retry-After: 3, then 429 Retry-After: 1
    sink.script(SinkAnswer.rate_limited(3), SinkAnswer.rate_limited(1))
    # When posting
    result = webhook_to(sink, recorder).post(PAYLOAD)
    # Then the waits are Slack's, not the backoff's, and the third attempt lands
    assert recorder.waits == [3.0, 1.0]
    assert result.attempts == 3


def test_server_errors_back_off_exponentially(sink: SlackSink, recorder: Recorder) -> None:
    # Given three 5xx answers
    sink.script(*(SinkAnswer.server_error(code) for code in (500, 502, 503)))
    # When posting (jitter pinned to its ceiling)
    webhook_to(sink, recorder).post(PAYLOAD)
    # Then waits double from the base delay
    assert recorder.waits == [0.5, 1.0, 2.0]


def test_backoff_is_capped() -> None:
    # Given the default policy / Then the ceiling doubles up to max_backoff_s
    webhook = SlackWebhook(lambda: validate_webhook_url(SLACK_URL), jitter=lambda c: c)
    assert [webhook.backoff(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]


def test_attempts_are_bounded(sink: SlackSink, recorder: Recorder) -> None:
    # Given Slack failing forever
    sink.script(*[SinkAnswer.server_error()] * 10)
    # When posting with 4 attempts allowed
    with pytest.raises(SlackPostError) as raised:
        webhook_to(sink, recorder, RetryPolicy(max_attempts=4, max_total_s=100)).post(PAYLOAD)
    # Then it tried 4 times, and the error names the host and status, not the URL
    assert len(sink.received) == 4
    assert (raised.value.attempts, raised.value.status) == (4, 500)
    assert str(raised.value).startswith("Slack webhook at 127.0.0.1 failed after 4 attempts")
    assert sink.url not in str(raised.value)


def test_total_time_is_bounded(sink: SlackSink, recorder: Recorder) -> None:
    # Given Slack failing and a 2 s budget
    sink.script(*[SinkAnswer.server_error()] * 10)
    webhook = webhook_to(sink, recorder, RetryPolicy(max_attempts=10, max_total_s=2))
    # When posting / Then it stops before a wait would pass the budget
    with pytest.raises(SlackPostError, match="budget"):
        webhook.post(PAYLOAD)
    assert recorder.waits == [0.5, 1.0]


def test_retry_after_above_the_cap_ends_the_retries(sink: SlackSink, recorder: Recorder) -> None:
    # Given Slack asking for 60 s while 30 s is the most honoured
    sink.script(SinkAnswer.rate_limited(60))
    # When posting / Then it gives up at once rather than retrying too early
    with pytest.raises(SlackPostError, match="Retry-After 60 s"):
        webhook_to(sink, recorder, RetryPolicy(max_retry_after_s=30)).post(PAYLOAD)
    assert recorder.waits == []


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_client_errors_are_not_retried(sink: SlackSink, recorder: Recorder, status: int) -> None:
    # Given a 4xx other than 429 (bad payload, revoked token, archived channel)
    sink.script(SinkAnswer(status, "invalid_token"))
    # When posting / Then one attempt, and Slack's answer is in the error
    with pytest.raises(SlackPostError, match=f"HTTP {status} invalid_token"):
        webhook_to(sink, recorder).post(PAYLOAD)
    assert len(sink.received) == 1


def test_redirect_is_not_followed(sink: SlackSink, recorder: Recorder) -> None:
    # Given the webhook answering with a redirect to another local server
    with SlackSink() as elsewhere:
        sink.script(SinkAnswer(302, "", {"Location": elsewhere.url}))
        # When posting
        with pytest.raises(SlackPostError, match="HTTP 302"):
            webhook_to(sink, recorder).post(PAYLOAD)
        # Then the alert did not go where the redirect pointed
        assert elsewhere.received == []


def test_network_errors_are_retried_then_reported_by_type(recorder: Recorder) -> None:
    # Given a webhook URL where nothing listens
    url = validate_webhook_url(f"http://127.0.0.1:{closed_port()}/services/T/B/x", allow_local=True)
    webhook = SlackWebhook(
        lambda: url,
        policy=RetryPolicy(max_attempts=3),
        sleep=recorder.sleep,
        clock=recorder.clock,
        jitter=lambda c: c,
    )
    # When posting / Then each attempt is retried and the error names the failure's type only
    with pytest.raises(SlackPostError, match=r"network error \(URLError\)") as raised:
        webhook.post(PAYLOAD)
    assert recorder.waits == [0.5, 1.0]
    assert "/services/" not in str(raised.value)


def test_retries_are_logged_by_host_without_the_url(
    sink: SlackSink, recorder: Recorder, logs: CapturedLogs
) -> None:
    # Given one 429
    sink.script(SinkAnswer.rate_limited(2))
    # When posting
    webhook_to(sink, recorder).post(PAYLOAD)
    # Then the retry is logged with the host, status and wait, and the URL is nowhere
    [line] = logs.records()
    assert (line["webhook_host"], line["status"], line["retry_in_s"]) == ("127.0.0.1", 429, 2.0)
    assert sink.url not in json.dumps(logs.records())


def test_transport_reports_http_errors_as_answers(sink: SlackSink) -> None:
    # Given a 500 with a body / When the transport posts / Then it returns it rather than raising
    sink.script(SinkAnswer(500, "boom", {"Retry-After": "4"}))
    answer = urllib_transport(sink.url, b"{}", timeout=2)
    assert answer == HttpAnswer(500, answer.headers, "boom")
    assert answer.headers["Retry-After"] == "4"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Fri, 20 Nov 2026 10:00:10 GMT", 10.0),
        ("Fri, 20 Nov 2026 09:59:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, seconds: float | None
) -> None:
    # Given a Retry-After header at 2026-11-20T10:00:00Z / Then the wait is read from it
    now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=lambda: now) == seconds


# ------------------------------------------------------------------------------ once per alert


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def poster_for(webhook: SlackWebhook, table: Any) -> IdempotentSlackPoster:
    persistence = DynamoDBPersistenceLayer(table_name=TABLE, boto3_client=table)
    poster = IdempotentSlackPoster(webhook, persistence, key_prefix="test-alerts")
    poster.register_lambda_context(FakeLambdaContext(remaining_ms=30_000))  # type: ignore[arg-type]
    return poster


def test_same_alert_id_is_posted_once(sink: SlackSink, recorder: Recorder, table: Any) -> None:
    # Given a poster over an idempotency table
    poster = poster_for(webhook_to(sink, recorder), table)
    # When the same alert is posted twice
    first = poster.post("evt-1", PAYLOAD)
    second = poster.post("evt-1", PAYLOAD)
    # Then Slack saw it once and the second call says it was a duplicate
    assert (first.posted, second.posted) == (True, False)
    assert len(sink.received) == 1


def test_different_alert_ids_are_each_posted(
    sink: SlackSink, recorder: Recorder, table: Any
) -> None:
    poster = poster_for(webhook_to(sink, recorder), table)
    # When two alerts are posted / Then both reach Slack
    poster.post("evt-1", PAYLOAD)
    poster.post("evt-2", PAYLOAD)
    assert len(sink.received) == 2


def test_failed_post_can_be_retried(sink: SlackSink, recorder: Recorder, table: Any) -> None:
    # Given a post that failed (404 once)
    poster = poster_for(webhook_to(sink, recorder), table)
    sink.script(SinkAnswer(404, "no_service"))
    with pytest.raises(SlackPostError):
        poster.post("evt-1", PAYLOAD)
    # When it is posted again / Then it goes through: the failure left no record behind
    assert poster.post("evt-1", PAYLOAD).posted
    assert len(sink.delivered()) == 1


def test_concurrent_delivery_leaves_the_post_to_its_owner(recorder: Recorder, table: Any) -> None:
    # Given a post in progress: while it is being sent, a duplicate delivery posts the same id
    seen: list[Any] = []
    holder: dict[str, IdempotentSlackPoster] = {}

    def transport(url: str, body: bytes, timeout: float) -> HttpAnswer:
        seen.append(holder["duplicate"].post("evt-1", PAYLOAD))
        return HttpAnswer(200, {}, "ok")

    url = WebhookUrl("https://hooks.slack.com/services/T/B/x", "hooks.slack.com")
    owner = poster_for(SlackWebhook(lambda: url, transport=transport), table)
    holder["duplicate"] = poster_for(SlackWebhook(lambda: url, transport=transport), table)
    # When the owner posts
    result = owner.post("evt-1", PAYLOAD)
    # Then the owner posted and the duplicate stood back
    assert result.posted
    assert [(o.posted, o.in_progress_elsewhere) for o in seen] == [(False, True)]


# ------------------------------------------------------------------------------ Block Kit


def test_truncate_marks_the_cut() -> None:
    assert truncate("abcdef", 10) == "abcdef"
    assert truncate("x" * 50, 20) == "x" * 7 + "… (truncated)"


def test_escape_covers_slacks_control_characters() -> None:
    assert escape_mrkdwn("<@U123> & <!here>") == "&lt;@U123&gt; &amp; &lt;!here&gt;"


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab`<>&\n é"), max_size=4000))
def test_code_block_stays_one_block_within_the_limit(text: str) -> None:
    # Given any text (fences, entities, unicode) / When put in a code block
    block = code_block(text)
    inner = block[3:-3]
    # Then it is one fenced block no longer than the limit, never cut inside an entity
    assert block.startswith("```")
    assert block.endswith("```")
    assert "```" not in inner
    assert len(inner) <= CODE_BLOCK_LIMIT
    assert not inner.endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))


# ------------------------------------------------------------------------------ lazy poster


def test_lazy_poster_builds_nothing_until_the_first_alert() -> None:
    # Given a lazy poster whose builder counts its calls
    built: list[RecordingPoster] = []

    def build() -> RecordingPoster:
        built.append(RecordingPoster())
        return built[-1]

    lazy = LazySlackPoster(build)
    # When a context is registered but nothing posted / Then nothing is built
    lazy.register_lambda_context("ctx-1")
    assert built == []
    # When two alerts are posted / Then one poster is built, told the context, and used twice
    lazy.post("a", PAYLOAD)
    lazy.post("b", PAYLOAD)
    [poster] = built
    assert (poster.contexts, poster.posted) == (["ctx-1"], ["a", "b"])


def test_lazy_poster_passes_later_contexts_on() -> None:
    poster = RecordingPoster()
    lazy = LazySlackPoster(lambda: poster)
    lazy.post("a", PAYLOAD)
    lazy.register_lambda_context("ctx-2")
    assert poster.contexts == ["ctx-2"]
