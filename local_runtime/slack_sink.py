"""A local stand-in for a Slack incoming webhook: a real HTTP server on 127.0.0.1.

``SlackSink`` records every POST (parsed JSON when it is JSON) in arrival order and answers
like Slack (200 "ok"), or as scripted: the next answers can be 429 with a Retry-After, 500,
or anything else, to show retries in tests and demos. The alerting functions accept its
``http://127.0.0.1`` URL only with ``SLACK_ALLOW_LOCAL_WEBHOOK=true``.

    with SlackSink(script=[SinkAnswer.rate_limited(retry_after=2)]) as sink:
        ...  # store sink.url in the webhook secret, run the function
        assert sink.delivered()[0]["blocks"][0]["type"] == "header"
"""

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Self

from local_runtime.lifecycle import Service

WEBHOOK_PATH: Final = "/services/T00000000/B00000000/local-sink"
_MAX_BODY_BYTES: Final = 1_000_000
# How often serve_forever checks for shutdown: stop() returns within this.
_POLL_INTERVAL_S: Final = 0.02


@dataclass(frozen=True)
class SinkAnswer:
    """One scripted answer."""

    status: int = 200
    body: str = "ok"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> "SinkAnswer":
        return cls(429, "rate_limited", {"Retry-After": str(retry_after)})

    @classmethod
    def server_error(cls, status: int = 500) -> "SinkAnswer":
        return cls(status, "internal_error")


OK: Final = SinkAnswer()


@dataclass(frozen=True)
class ReceivedPost:
    path: str
    headers: Mapping[str, str]
    body: bytes
    answered: int
    """The status the sink answered with."""

    def parsed(self) -> Any:
        """The body as JSON, or as text when it is not JSON."""
        text = self.body.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text


class SlackSink(Service):
    """Threaded HTTP server on 127.0.0.1 (a free port) recording webhook POSTs."""

    def __init__(self, script: Iterable[SinkAnswer] = ()) -> None:
        self._lock = threading.Lock()
        self._script: list[SinkAnswer] = list(script)
        self._received: list[ReceivedPost] = []
        self._arrived = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": _POLL_INTERVAL_S},
                name="slack-sink",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    # ------------------------------------------------------------------ what it saw
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """A webhook-shaped URL on this sink (any path is accepted)."""
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    @property
    def received(self) -> list[ReceivedPost]:
        with self._lock:
            return list(self._received)

    def bodies(self) -> list[Any]:
        """Every POST body in arrival order, parsed (JSON, else text)."""
        return [post.parsed() for post in self.received]

    def delivered(self) -> list[Any]:
        """The bodies of the POSTs answered 2xx: what Slack would have shown."""
        return [post.parsed() for post in self.received if 200 <= post.answered < 300]

    def script(self, *answers: SinkAnswer) -> None:
        """Queues answers for the next requests; afterwards the sink answers 200 "ok"."""
        with self._lock:
            self._script.extend(answers)

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Waits until ``count`` POSTs arrived; False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self._received) >= count, timeout)

    # ------------------------------------------------------------------ serving
    def _answer(self, path: str, headers: Mapping[str, str], body: bytes) -> SinkAnswer:
        with self._arrived:
            answer = self._script.pop(0) if self._script else OK
            self._received.append(ReceivedPost(path, dict(headers), body, answer.status))
            self._arrived.notify_all()
        return answer

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY_BYTES)
                body = self.rfile.read(length)
                answer = sink._answer(self.path, dict(self.headers.items()), body)
                self._reply(answer)

            def do_GET(self) -> None:
                self._reply(SinkAnswer(405, "method_not_allowed"))

            def _reply(self, answer: SinkAnswer) -> None:
                payload = answer.body.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: tests and the demo report what the sink recorded instead

        return Handler
