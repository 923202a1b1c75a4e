"""local_runtime.slack_sink: a real HTTP server on 127.0.0.1 standing in for a Slack webhook."""

import json
import urllib.error
import urllib.request

import pytest

from local_runtime.slack_sink import SinkAnswer, SlackSink


def post(url: str, body: bytes) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode(), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), dict(error.headers.items())


def test_records_every_post_in_order_and_answers_ok() -> None:
    # Given a running sink
    with SlackSink() as sink:
        # When two JSON bodies are posted
        answers = [post(sink.url, json.dumps({"n": n}).encode())[:2] for n in (1, 2)]
        # Then both are answered like Slack and recorded in arrival order
        assert answers == [(200, "ok"), (200, "ok")]
        assert sink.bodies() == [{"n": 1}, {"n": 2}]


def test_url_is_a_loopback_webhook_path_on_its_port() -> None:
    with SlackSink() as sink:
        assert sink.url == f"http://127.0.0.1:{sink.port}/services/T00000000/B00000000/local-sink"
        assert sink.port > 0


def test_scripted_answers_come_first_then_ok() -> None:
    # Given a sink scripted to rate limit once and fail once
    with SlackSink(script=[SinkAnswer.rate_limited(5), SinkAnswer.server_error(503)]) as sink:
        # When three requests arrive
        answers = [post(sink.url, b"{}") for _ in range(3)]
        # Then they get 429 (with Retry-After), 503, then 200
        assert [status for status, _, _ in answers] == [429, 503, 200]
        assert answers[0][2]["Retry-After"] == "5"
        assert [received.answered for received in sink.received] == [429, 503, 200]


def test_delivered_keeps_only_what_slack_would_have_shown() -> None:
    with SlackSink(script=[SinkAnswer.server_error()]) as sink:
        post(sink.url, b'{"try": 1}')
        post(sink.url, b'{"try": 2}')
        assert sink.delivered() == [{"try": 2}]


def test_non_json_body_is_kept_as_text() -> None:
    with SlackSink() as sink:
        post(sink.url, b"plain words")
        assert sink.bodies() == ["plain words"]


def test_script_can_be_extended_while_running() -> None:
    with SlackSink() as sink:
        sink.script(SinkAnswer(404, "no_service"))
        assert post(sink.url, b"{}")[:2] == (404, "no_service")


def test_wait_for_returns_once_enough_posts_arrived() -> None:
    with SlackSink() as sink:
        assert sink.wait_for(0, timeout=0.1)
        assert not sink.wait_for(1, timeout=0.05)
        post(sink.url, b"{}")
        assert sink.wait_for(1, timeout=1)


def test_stop_closes_the_port() -> None:
    # Given a sink that was running
    sink = SlackSink().start()
    url = sink.url
    # When stopped / Then nothing answers there any more
    sink.stop()
    with pytest.raises(urllib.error.URLError):
        post(url, b"{}")
