"""Posting to a Slack webhook: ``SlackWebhook.post`` sends a JSON payload with ``urllib`` (no
extra dependency) and retries 429, 5xx and network errors with exponential backoff and full
jitter, waiting exactly ``Retry-After`` seconds when Slack gives one; attempts and total time are
bounded. A Retry-After longer than what is left of the budget ends the retries at once (the
caller's own retry comes later) instead of sleeping less than Slack asked. Redirects are not
followed. Sleep, clock, jitter and the HTTP transport are injectable for tests.

Whatever fails, the URL never reaches a log line or an exception message: errors name the host
("hooks.slack.com") and the HTTP status only, and exceptions from the transport are replaced so
their text cannot leak it either.
"""

import email.utils
import json
import math
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final, Protocol

from datalake_shared.observability import logger
from datalake_shared.slack.webhook_url import SlackWebhookError, WebhookUrl

_MAX_REASON_CHARS: Final = 120


class SlackPostError(SlackWebhookError):
    """Slack did not accept the message after the allowed attempts."""

    def __init__(self, host: str, attempts: int, reason: str, status: int | None = None) -> None:
        self.host = host
        self.attempts = attempts
        self.reason = reason
        self.status = status
        plural = "s" if attempts != 1 else ""
        super().__init__(
            f"Slack webhook at {host} failed after {attempts} attempt{plural}: {reason}"
        )


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: str


class Transport(Protocol):
    """POSTs ``body`` (JSON) to ``url``; answers any HTTP status, raises on network errors."""

    def __call__(self, url: str, body: bytes, timeout: float) -> HttpAnswer: ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook never redirects; following one would send the alert somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@cache
def _opener() -> urllib.request.OpenerDirector:
    """Built on the first post: its HTTPS handler loads the CA bundle (~25 ms), which the
    invocations that post nothing (most of them) would pay on every cold start."""
    return urllib.request.build_opener(_NoRedirects())


_MAX_BODY_BYTES: Final = 4096


def urllib_transport(url: str, body: bytes, timeout: float) -> HttpAnswer:
    request = urllib.request.Request(  # noqa: S310  (the URL is validated: https Slack or loopback)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            return HttpAnswer(
                response.status,
                dict(response.headers.items()),
                response.read(_MAX_BODY_BYTES).decode("utf-8", "replace"),
            )
    except urllib.error.HTTPError as error:
        with error:
            text = error.read(_MAX_BODY_BYTES).decode("utf-8", "replace")
            return HttpAnswer(error.code, dict(error.headers.items()), text)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0
    """Longest Retry-After honoured; a longer one ends the retries."""
    max_total_s: float = 20.0
    """Time budget of one ``post`` including waits (keep it below the function timeout)."""
    timeout_s: float = 5.0
    """Per request."""


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        current = now() if now else datetime.now(UTC)
        seconds = (moment - current).total_seconds()
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _full_jitter(ceiling: float) -> float:
    return random.uniform(0, ceiling)  # noqa: S311  (spreading retries, not cryptography)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON_CHARS else text[:_MAX_REASON_CHARS] + "…"


@dataclass(frozen=True, slots=True)
class PostResult:
    status: int
    attempts: int


class SlackWebhook:
    """Posts JSON payloads to one webhook with bounded, Retry-After-aware retries."""

    def __init__(
        self,
        url: Callable[[], WebhookUrl],
        *,
        policy: RetryPolicy | None = None,
        transport: Transport = urllib_transport,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[float], float] = _full_jitter,
    ) -> None:
        self._url = url
        self.policy = policy or RetryPolicy()
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_backoff, base * 2^(attempt-1))]."""
        ceiling = min(self.policy.max_backoff_s, self.policy.base_delay_s * 2 ** (attempt - 1))
        return self._jitter(ceiling)

    def post(self, payload: Mapping[str, Any]) -> PostResult:
        url = self._url()
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        policy = self.policy
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            status: int | None = None
            retry_after: float | None = None
            try:
                answer = self._transport(url.value, body, policy.timeout_s)
            except Exception as error:  # its text may hold the URL: keep the type only
                reason = f"network error ({type(error).__name__})"
            else:
                status = answer.status
                if 200 <= status < 300:
                    return PostResult(status=status, attempts=attempt)
                reason = f"HTTP {status} {_short(answer.body)}".rstrip()
                if status != 429 and status < 500:
                    # 400 invalid_payload, 403 invalid_token, 404 no_service, 410
                    # channel_is_archived: repeating the same request cannot succeed.
                    raise SlackPostError(url.host, attempt, reason, status)
                retry_after = parse_retry_after(_header(answer.headers, "Retry-After"))

            if attempt >= policy.max_attempts:
                raise SlackPostError(url.host, attempt, reason, status)
            delay = retry_after if retry_after is not None else self.backoff(attempt)
            elapsed = self._clock() - started
            if retry_after is not None and retry_after > policy.max_retry_after_s:
                raise SlackPostError(
                    url.host,
                    attempt,
                    f"{reason}; Retry-After {retry_after:g} s is above "
                    f"{policy.max_retry_after_s:g} s",
                    status,
                )
            if elapsed + delay > policy.max_total_s:
                raise SlackPostError(
                    url.host,
                    attempt,
                    f"{reason}; waiting {delay:.2f} s more would pass the "
                    f"{policy.max_total_s:g} s budget",
                    status,
                )
            logger.warning(
                "Slack webhook did not accept the message; retrying",
                extra={
                    "webhook_host": url.host,
                    "status": status,
                    "reason": reason,
                    "attempt": attempt,
                    "retry_in_s": round(delay, 3),
                    "retry_after_header": retry_after is not None,
                },
            )
            self._sleep(delay)
