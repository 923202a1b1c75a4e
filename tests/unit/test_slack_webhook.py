"""datalake_shared.slack: the webhook URL from its secret, the post with retries (against a real
HTTP server on 127.0.0.1), the once-per-alert poster, and the Block Kit helpers."""

import email.utils
import io
import json
import socket
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
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
from moto_dynamodb import template_tables

from datalake_shared.slack import (
    CODE_BLOCK_LIMIT,
    AlertOutcome,
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
from datalake_shared.slack import webhook as webhook_module
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
    with pytest.raises(SlackPostError, match="budget") as raised:
        webhook.post(PAYLOAD)
    assert recorder.waits == [0.5, 1.0]
    assert (raised.value.host, raised.value.attempts, raised.value.status) == ("127.0.0.1", 3, 500)


def test_retry_after_above_the_cap_ends_the_retries(sink: SlackSink, recorder: Recorder) -> None:
    # Given Slack asking for 60 s while 30 s is the most honoured
    sink.script(SinkAnswer.rate_limited(60))
    # When posting / Then it gives up at once rather than retrying too early
    with pytest.raises(SlackPostError, match="Retry-After 60 s") as raised:
        webhook_to(sink, recorder, RetryPolicy(max_retry_after_s=30)).post(PAYLOAD)
    assert recorder.waits == []
    assert (raised.value.host, raised.value.attempts, raised.value.status) == ("127.0.0.1", 1, 429)


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
    assert (raised.value.host, raised.value.attempts, raised.value.status) == ("127.0.0.1", 3, None)
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
        ("Fri, 20 Nov 2026 10:00:10 -0000", 10.0),  # no zone given: read as UTC
        ("Fri, 20 Nov 2026 11:00:10 +0100", 10.0),  # its own zone is kept
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
def table(sam_template: dict[str, Any]) -> Iterator[Any]:
    """The template's alert idempotency table, in moto."""
    with template_tables(sam_template, {"AlertIdempotencyTable": TABLE}) as client:
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
    assert result == AlertOutcome("evt-1", posted=True, attempts=1)
    assert seen == [AlertOutcome("evt-1", posted=False, in_progress_elsewhere=True)]


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
    assert (poster.contexts, poster.posts) == (["ctx-1"], [("a", PAYLOAD), ("b", PAYLOAD)])


def test_lazy_poster_passes_later_contexts_on() -> None:
    poster = RecordingPoster()
    lazy = LazySlackPoster(lambda: poster)
    lazy.post("a", PAYLOAD)
    lazy.register_lambda_context("ctx-2")
    assert poster.contexts == ["ctx-2"]


# ------------------------------------------------------------------------------ the post, in detail


@dataclass
class ScriptedTransport:
    """Stands in for the HTTP transport: answers as scripted (then 200 "ok"), records requests."""

    answers: list[HttpAnswer] = field(default_factory=list)
    requests: list[tuple[str, bytes, float]] = field(default_factory=list)

    def __call__(self, url: str, body: bytes, timeout: float) -> HttpAnswer:
        self.requests.append((url, body, timeout))
        return self.answers.pop(0) if self.answers else HttpAnswer(200, {}, "ok")


SLACK = WebhookUrl(SLACK_URL, "hooks.slack.com")


def scripted_webhook(
    transport: ScriptedTransport, recorder: Recorder, policy: RetryPolicy | None = None
) -> SlackWebhook:
    return SlackWebhook(
        lambda: SLACK,
        policy=policy,
        transport=transport,
        sleep=recorder.sleep,
        clock=recorder.clock,
        jitter=lambda ceiling: ceiling,
    )


def test_payload_is_sent_as_compact_utf8_json(sink: SlackSink, recorder: Recorder) -> None:
    # Given a payload with non-ASCII text / When posted
    webhook_to(sink, recorder).post({"text": "café ✓", "n": 1})
    # Then the body is compact JSON, the text as UTF-8 rather than \\u escapes
    assert sink.received[0].body == '{"text":"café ✓","n":1}'.encode()


def test_time_budget_counts_from_the_start_of_the_post() -> None:
    # Given a monotonic clock far from zero (as on a real host) and Slack failing, 2 s budget
    recorder = Recorder(now=1_700_000_000.0)
    transport = ScriptedTransport([HttpAnswer(500, {}, "internal_error")] * 10)
    webhook = scripted_webhook(transport, recorder, RetryPolicy(max_attempts=10, max_total_s=2))
    # When posting / Then it waits as long as the budget allows, counted from the post's start
    with pytest.raises(SlackPostError, match="budget"):
        webhook.post(PAYLOAD)
    assert recorder.waits == [0.5, 1.0]
    assert len(transport.requests) == 3


def test_wait_ending_exactly_at_the_budget_is_allowed(recorder: Recorder) -> None:
    # Given two failures, then success, and a 1.5 s budget (0.5 s + 1.0 s of backoff)
    transport = ScriptedTransport([HttpAnswer(503, {}, "")] * 2)
    webhook = scripted_webhook(transport, recorder, RetryPolicy(max_total_s=1.5))
    # When posting / Then both waits fit the budget exactly and the third attempt lands
    assert webhook.post(PAYLOAD).attempts == 3
    assert recorder.waits == [0.5, 1.0]


def test_retry_after_at_the_cap_is_honoured(recorder: Recorder) -> None:
    # Given Slack asking for exactly the most honoured wait (30 s), within a 60 s budget
    transport = ScriptedTransport([HttpAnswer(429, {"Retry-After": "30"}, "rate_limited")])
    webhook = scripted_webhook(transport, recorder, RetryPolicy(max_total_s=60))
    # When posting / Then it waits the 30 s and the second attempt lands
    assert webhook.post(PAYLOAD).attempts == 2
    assert recorder.waits == [30.0]


def test_retry_after_header_name_is_read_in_any_case(recorder: Recorder) -> None:
    # Given a proxy that lower-cases header names
    transport = ScriptedTransport([HttpAnswer(429, {"retry-after": "7"}, "rate_limited")])
    # When posting / Then Slack's wait is still the one waited
    scripted_webhook(transport, recorder).post(PAYLOAD)
    assert recorder.waits == [7.0]


def test_each_request_carries_the_policys_timeout(recorder: Recorder) -> None:
    # Given a policy with a 2.5 s request timeout and two failures before success
    transport = ScriptedTransport([HttpAnswer(500, {}, "")] * 2)
    scripted_webhook(transport, recorder, RetryPolicy(timeout_s=2.5)).post(PAYLOAD)
    # Then every request went to the webhook URL with that timeout
    assert [(url, timeout) for url, _, timeout in transport.requests] == [(SLACK_URL, 2.5)] * 3


@pytest.mark.parametrize("status", [200, 204])
def test_any_2xx_is_success(recorder: Recorder, status: int) -> None:
    transport = ScriptedTransport([HttpAnswer(status, {}, "")])
    result = scripted_webhook(transport, recorder).post(PAYLOAD)
    assert (result.status, result.attempts) == (status, 1)


def test_a_300_answer_is_not_success(recorder: Recorder) -> None:
    # Given an answer just past the 2xx range / When posting
    transport = ScriptedTransport([HttpAnswer(300, {}, "")])
    # Then it fails at once (a webhook has no choices to offer)
    with pytest.raises(SlackPostError) as raised:
        scripted_webhook(transport, recorder).post(PAYLOAD)
    assert (raised.value.status, raised.value.attempts) == (300, 1)


def test_client_error_reports_host_attempts_reason_and_status(recorder: Recorder) -> None:
    # Given Slack refusing the webhook (404 no_service) / When posting
    transport = ScriptedTransport([HttpAnswer(404, {}, "no_service")])
    with pytest.raises(SlackPostError) as raised:
        scripted_webhook(transport, recorder).post(PAYLOAD)
    # Then the error carries what went wrong, and its message names the host, never the URL
    error = raised.value
    assert (error.host, error.attempts, error.reason, error.status) == (
        "hooks.slack.com",
        1,
        "HTTP 404 no_service",
        404,
    )
    assert (
        str(error) == "Slack webhook at hooks.slack.com failed after 1 attempt: HTTP 404 no_service"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "HTTP 400"),
        ("invalid_blocks\n   at  blocks[0]", "HTTP 400 invalid_blocks at blocks[0]"),
        ("x" * 120, "HTTP 400 " + "x" * 120),
        ("x" * 121, "HTTP 400 " + "x" * 120 + "…"),
    ],
)
def test_reason_holds_slacks_answer_on_one_short_line(
    recorder: Recorder, body: str, reason: str
) -> None:
    # Given Slack's answer body (empty, multi-line, long) / When the post fails
    transport = ScriptedTransport([HttpAnswer(400, {}, body)])
    with pytest.raises(SlackPostError) as raised:
        scripted_webhook(transport, recorder).post(PAYLOAD)
    # Then the reason is the status and the answer, on one line of at most 120 characters
    assert raised.value.reason == reason


def test_retry_logs_say_why_and_how_long(recorder: Recorder, logs: CapturedLogs) -> None:
    # Given a 429 with Retry-After, then a 500 retried after a jittered backoff
    transport = ScriptedTransport(
        [HttpAnswer(429, {"Retry-After": "2"}, "rate_limited"), HttpAnswer(500, {}, "boom")]
    )
    webhook = SlackWebhook(
        lambda: SLACK,
        transport=transport,
        sleep=recorder.sleep,
        clock=recorder.clock,
        jitter=lambda ceiling: ceiling * 0.246913,
    )
    # When posting
    webhook.post(PAYLOAD)
    # Then each retry is logged with its reason, attempt, wait (ms precision) and its source
    fields = ("reason", "attempt", "retry_in_s", "retry_after_header")
    assert [tuple(line[name] for name in fields) for line in logs.records()] == [
        ("HTTP 429 rate_limited", 1, 2.0, True),
        ("HTTP 500 boom", 2, 0.247, False),
    ]


def test_default_jitter_spreads_waits_up_to_the_ceiling() -> None:
    # Given the real (random) jitter / When the first backoff (ceiling 0.5 s) is drawn often
    webhook = SlackWebhook(lambda: SLACK)
    waits = [webhook.backoff(1) for _ in range(200)]
    # Then every wait is between 0 and the ceiling, and they are spread over that range
    assert all(0 <= wait <= 0.5 for wait in waits)
    assert min(waits) < 0.1
    assert max(waits) > 0.4


# ------------------------------------------------------------------------------ Retry-After dates


def test_retry_after_date_is_read_against_the_real_clock_by_default() -> None:
    # Given Retry-After dates in the past and far in the future / When read with no clock given
    # Then they are measured from now
    assert parse_retry_after("Fri, 20 Nov 2020 10:00:00 GMT") == 0.0
    later = parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT")
    assert later is not None
    assert later > 2e9


def test_post_waits_until_a_retry_after_date(sink: SlackSink, recorder: Recorder) -> None:
    # Given Slack answering 429 with Retry-After as an HTTP date 10 s from now
    until = datetime.now(UTC) + timedelta(seconds=10)
    date = email.utils.format_datetime(until, usegmt=True)  # whole seconds: 9 to 10 s ahead
    sink.script(SinkAnswer(429, "rate_limited", {"Retry-After": date}))
    # When posting
    result = webhook_to(sink, recorder).post(PAYLOAD)
    # Then it waited until that date (the HTTP date has whole seconds) and then posted
    [wait] = recorder.waits
    assert 8.0 < wait <= 10.0
    assert result.attempts == 2


def test_post_retries_at_once_when_the_retry_after_date_has_passed(
    sink: SlackSink, recorder: Recorder
) -> None:
    # Given a Retry-After date already past
    sink.script(SinkAnswer(429, "rate_limited", {"Retry-After": "Fri, 20 Nov 2020 10:00:00 GMT"}))
    # When posting / Then it retries without waiting (not after a backoff)
    assert webhook_to(sink, recorder).post(PAYLOAD).attempts == 2
    assert recorder.waits == [0.0]


# ------------------------------------------------------------------------------ the transport


class RecordingOpener:
    """Stands in for the no-redirect opener: records each request's timeout, then answers with
    the real opener, or with ``status`` and raw ``body`` bytes when given."""

    def __init__(self, status: int | None = None, body: bytes = b"") -> None:
        self.status = status
        self.body = body
        self.timeouts: list[float] = []

    def open(self, request: urllib.request.Request, timeout: float) -> Any:
        self.timeouts.append(timeout)
        if self.status is None:
            return urllib.request.build_opener().open(request, timeout=timeout)
        headers = Message()
        headers["X-Test"] = "yes"
        if self.status >= 400:
            raise urllib.error.HTTPError(
                request.full_url, self.status, "error", headers, io.BytesIO(self.body)
            )
        return urllib.response.addinfourl(
            io.BytesIO(self.body), headers, request.full_url, self.status
        )


def test_transport_gives_the_timeout_to_the_connection(
    sink: SlackSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the transport's opener recorded / When posting with a 1.5 s timeout
    opener = RecordingOpener()
    monkeypatch.setattr(webhook_module, "_opener", lambda: opener)
    answer = urllib_transport(sink.url, b"{}", timeout=1.5)
    # Then the connection was opened with that timeout (a hung endpoint cannot hold the Lambda)
    assert opener.timeouts == [1.5]
    assert answer.status == 200


def test_hung_endpoint_gives_up_at_the_request_timeout(recorder: Recorder) -> None:
    # Given an endpoint that takes the connection but never answers
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        url = validate_webhook_url(f"http://127.0.0.1:{port}/services/T/B/x", allow_local=True)
        webhook = SlackWebhook(
            lambda: url,
            policy=RetryPolicy(max_attempts=2, timeout_s=0.2),
            sleep=recorder.sleep,
            clock=recorder.clock,
        )
        # When posting / Then each attempt times out and the post fails as a network error
        with pytest.raises(SlackPostError, match=r"network error \(TimeoutError\)") as raised:
            webhook.post(PAYLOAD)
    assert (raised.value.attempts, raised.value.status) == (2, None)


def test_transport_returns_the_answers_headers_and_body(sink: SlackSink) -> None:
    # Given Slack accepting the post / When the transport posts
    answer = urllib_transport(sink.url, b"{}", timeout=2)
    # Then the status, headers and body are Slack's
    assert (answer.status, answer.body) == (200, "ok")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("status", [200, 500])
def test_transport_reads_at_most_4_kib_of_the_answer(sink: SlackSink, status: int) -> None:
    # Given an answer body of 5000 characters / When the transport posts
    sink.script(SinkAnswer(status, "y" * 5000))
    # Then it keeps the first 4096 only
    assert urllib_transport(sink.url, b"{}", timeout=2).body == "y" * 4096


@pytest.mark.parametrize("status", [200, 503])
def test_transport_replaces_bytes_that_are_not_utf8(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    # Given an answer whose body is not valid UTF-8
    monkeypatch.setattr(webhook_module, "_opener", lambda: RecordingOpener(status, b"ok \xff"))
    # When the transport posts / Then it still answers, the bad byte replaced
    answer = urllib_transport(SLACK_URL, b"{}", timeout=2)
    assert (answer.status, answer.body) == (status, "ok \ufffd")
    assert answer.headers["X-Test"] == "yes"
