"""Slack incoming webhooks for the alerting functions (pipeline_monitor, redshift_audit).

Three pieces, each usable on its own:

- **The URL** lives in Secrets Manager, never in code or environment variables:
  ``SecretWebhookUrl`` reads it through Powertools Parameters (cached for ``max_age`` seconds),
  accepts a plain URL or JSON ``{"webhook_url": ...}`` and validates it: ``https`` on a Slack
  webhook host only, so a tampered secret cannot turn alerts into a way to send data anywhere.
  ``http://127.0.0.1`` (loopback) is accepted only when the caller allows it, for the local
  sink used by tests and ``make demo``; loopback reaches nothing outside the sandbox, so allowing
  it by mistake in AWS opens no path out. ``WebhookUrl`` prints as its host only.
- **The post**: ``SlackWebhook.post`` sends a JSON payload with ``urllib`` (no extra
  dependency) and retries 429, 5xx and network errors with exponential backoff and full jitter,
  waiting exactly ``Retry-After`` seconds when Slack gives one; attempts and total time are
  bounded. A Retry-After longer than what is left of the budget ends the retries at once (the
  caller's own retry comes later) instead of sleeping less than Slack asked. Redirects are not
  followed. Sleep, clock, jitter and the HTTP transport are injectable for tests.
- **Once per alert**: ``IdempotentSlackPoster`` wraps the post in Powertools idempotency keyed
  on an alert id, so a redelivered event never posts twice.

Whatever fails, the URL (whose path is the credential) never reaches a log line or an exception
message: errors name the host ("hooks.slack.com") and the HTTP status only, and exceptions from
the transport are replaced (``from None``) so their text cannot leak it either.
"""

import email.utils
import json
import math
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import urlsplit

from datalake_shared.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

SLACK_WEBHOOK_HOSTS: Final = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_URL_KEYS: Final = ("webhook_url", "slack_webhook")

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
HEADER_TEXT_LIMIT: Final = 150
SECTION_TEXT_LIMIT: Final = 3000
FIELD_TEXT_LIMIT: Final = 2000
MAX_FIELDS: Final = 10
BUTTON_URL_LIMIT: Final = 3000
CODE_BLOCK_LIMIT: Final = 2900
TRUNCATED_MARK: Final = "… (truncated)"
_MAX_REASON_CHARS: Final = 120


class SlackWebhookError(RuntimeError):
    """Base of the errors below; messages never contain the webhook URL."""


class WebhookConfigError(SlackWebhookError):
    """The secret does not hold a usable webhook URL."""


class WebhookNotConfiguredError(WebhookConfigError):
    """The secret holds no URL yet (the stack creates it empty, to be filled in): alerts are
    stored and counted, not retried, until someone sets it."""


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


# ------------------------------------------------------------------------------ the URL


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    """A validated webhook URL. Its repr and str show the host only."""

    value: str = field(repr=False)
    host: str

    def __str__(self) -> str:
        return f"<Slack webhook at {self.host}>"


def _url_from_secret(secret_value: str) -> str:
    """The URL in a secret: the whole value, or a JSON object's "webhook_url"."""
    text = secret_value.strip()
    if not text:
        raise WebhookNotConfiguredError("the webhook secret is empty")
    if not text.startswith("{"):
        return text
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise WebhookConfigError("secret looks like JSON but does not parse") from None
    if isinstance(data, dict):
        for key in SECRET_URL_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        if any(data.get(key) in ("", None) and key in data for key in SECRET_URL_KEYS):
            raise WebhookNotConfiguredError("the webhook secret's URL is not set yet")
    raise WebhookConfigError(f"secret JSON has no string key among {list(SECRET_URL_KEYS)}")


def validate_webhook_url(raw: str, *, allow_local: bool = False) -> WebhookUrl:
    """Checks scheme, host, port and characters; errors describe the problem, not the URL."""
    if not raw or not raw.isprintable() or len(raw.split()) != 1:
        raise WebhookConfigError("webhook URL is empty or contains whitespace/control characters")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise WebhookConfigError("webhook URL does not parse") from None
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None:
        raise WebhookConfigError("webhook URL must not carry user information")
    if host in LOOPBACK_HOSTS:
        if not allow_local:
            raise WebhookConfigError(
                f"local webhook host {host} is only allowed with SLACK_ALLOW_LOCAL_WEBHOOK=true"
            )
        if parts.scheme not in ("http", "https"):
            raise WebhookConfigError(f"webhook URL scheme {parts.scheme!r} is not http(s)")
        return WebhookUrl(raw, host)
    if parts.scheme != "https":
        raise WebhookConfigError(f"webhook URL must use https (got {parts.scheme!r})")
    if host not in SLACK_WEBHOOK_HOSTS:
        raise WebhookConfigError(
            f"webhook host {host or '(none)'} is not a Slack webhook host "
            f"({', '.join(sorted(SLACK_WEBHOOK_HOSTS))})"
        )
    if port not in (None, 443):
        raise WebhookConfigError(f"webhook URL port {port} is not 443")
    if len(parts.path) <= 1:
        raise WebhookConfigError("webhook URL has no path")
    return WebhookUrl(raw, host)


def webhook_url_from_secret(secret_value: str, *, allow_local: bool = False) -> WebhookUrl:
    return validate_webhook_url(_url_from_secret(secret_value), allow_local=allow_local)


class SecretFetcher(Protocol):
    def __call__(self, name: str, max_age: int) -> str: ...


def powertools_secret(name: str, max_age: int) -> str:
    """Secrets Manager through Powertools Parameters: one GetSecretValue per ``max_age``."""
    # Imported on first use: only invocations that post pay for the Parameters utility.
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    value = parameters.get_secret(name, max_age=max_age)
    if not isinstance(value, str):
        raise WebhookConfigError("secret is binary; store the webhook URL as a secret string")
    return value


class SecretWebhookUrl:
    """Callable giving the webhook URL held by a Secrets Manager secret (name or ARN)."""

    def __init__(
        self,
        secret_id: str,
        *,
        allow_local: bool = False,
        max_age: int = 300,
        fetch: SecretFetcher = powertools_secret,
    ) -> None:
        self.secret_id = secret_id
        self.allow_local = allow_local
        self.max_age = max_age
        self._fetch = fetch
        self._validated: tuple[str, WebhookUrl] | None = None

    def __call__(self) -> WebhookUrl:
        raw = self._fetch(self.secret_id, self.max_age)
        if self._validated is None or self._validated[0] != raw:
            # Validated again only when the secret's value changed (rotation).
            self._validated = (raw, webhook_url_from_secret(raw, allow_local=self.allow_local))
        return self._validated[1]


# ------------------------------------------------------------------------------ the post


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


# ------------------------------------------------------------------------------ once per alert


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    alert_id: str
    posted: bool
    """False when an earlier delivery already posted it (or is posting it right now)."""
    attempts: int = 0
    in_progress_elsewhere: bool = False


_DUPLICATE: Final = "duplicate"


class IdempotentSlackPoster:
    """Posts each alert id at most once, recorded by Powertools idempotency.

    The record goes INPROGRESS before the post and COMPLETED after it; when the post raises,
    Powertools deletes the record, so the invocation's retry can post. A redelivery that finds
    the record COMPLETED returns without posting, and one that finds it INPROGRESS (a concurrent
    duplicate delivery) leaves the post to its owner, whose own failure would be retried.
    """

    def __init__(
        self,
        webhook: SlackWebhook,
        persistence: "BasePersistenceLayer",
        key_prefix: str,
        expires_after_seconds: int = 86_400,
    ) -> None:
        from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
            IdempotencyConfig,
            idempotent_function,
        )

        self.webhook = webhook
        self.config = IdempotencyConfig(
            event_key_jmespath="alert_id",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expires_after_seconds,
            response_hook=self._mark_duplicate,
        )
        self._post_once: Callable[..., dict[str, Any]] = idempotent_function(
            self._post,
            data_keyword_argument="alert",
            persistence_store=persistence,
            config=self.config,
            key_prefix=key_prefix,
        )

    @staticmethod
    def _mark_duplicate(response: Any, idempotent_data: "DataRecord") -> dict[str, Any]:
        return {**(response or {}), _DUPLICATE: True}

    def _post(self, alert: dict[str, str], payload: Mapping[str, Any]) -> dict[str, Any]:
        result = self.webhook.post(payload)
        return {"alert_id": alert["alert_id"], "status": result.status, "attempts": result.attempts}

    def register_lambda_context(self, context: "LambdaContext") -> None:
        """An in-progress record then expires with the invocation, so a crash cannot block."""
        if callable(getattr(context, "get_remaining_time_in_millis", None)):
            self.config.register_lambda_context(context)

    def post(self, alert_id: str, payload: Mapping[str, Any]) -> AlertOutcome:
        from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
            IdempotencyAlreadyInProgressError,
        )

        try:
            # Only the id is the idempotency data (Powertools hashes and deep-copies it); the
            # payload rides along as a plain argument.
            answer = self._post_once(alert={"alert_id": alert_id}, payload=payload)
        except IdempotencyAlreadyInProgressError:
            return AlertOutcome(alert_id, posted=False, in_progress_elsewhere=True)
        if answer.get(_DUPLICATE):
            return AlertOutcome(alert_id, posted=False)
        return AlertOutcome(alert_id, posted=True, attempts=int(answer.get("attempts", 0)))


class AlertPosting(Protocol):
    """What the alerting functions need from a poster (``IdempotentSlackPoster`` in Lambda)."""

    def post(self, alert_id: str, payload: Mapping[str, Any]) -> AlertOutcome:
        """Posts once per ``alert_id``; raises when Slack does not take it."""
        ...

    def register_lambda_context(self, context: "LambdaContext") -> None: ...


class LazySlackPoster:
    """Builds the real poster (secret, DynamoDB persistence layer) on the first alert only:
    invocations that alert nobody never touch Secrets Manager or the idempotency table."""

    def __init__(self, build: Callable[[], AlertPosting]) -> None:
        self._build = build
        self._poster: AlertPosting | None = None
        self._context: LambdaContext | None = None

    def register_lambda_context(self, context: "LambdaContext") -> None:
        self._context = context
        if self._poster is not None:
            self._poster.register_lambda_context(context)

    def post(self, alert_id: str, payload: Mapping[str, Any]) -> AlertOutcome:
        if self._poster is None:
            self._poster = self._build()
            if self._context is not None:
                self._poster.register_lambda_context(self._context)
        return self._poster.post(alert_id, payload)


# ------------------------------------------------------------------------------ Block Kit


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(TRUNCATED_MARK))] + TRUNCATED_MARK


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; anything else shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_block(text: str, limit: int = CODE_BLOCK_LIMIT) -> str:
    """``text`` as a mrkdwn code block; fences inside it are broken up so it stays one block."""
    raw = text.replace("```", "`\u200b`\u200b`")
    inner = escape_mrkdwn(raw)
    while len(inner) > limit:
        # Cut before escaping (never inside "&amp;"), shorter each round by what escaping added.
        raw = truncate(raw, len(raw) - (len(inner) - limit))
        inner = escape_mrkdwn(raw)
    return f"```{inner}```"


def header_block(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT_LIMIT), "emoji": True},
    }


def fields_block(fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A section of "*label*\\nvalue" fields (values escaped; at most ten)."""
    return {
        "type": "section",
        "fields": [
            {
                "type": "mrkdwn",
                "text": truncate(f"*{label}*\n{escape_mrkdwn(value)}", FIELD_TEXT_LIMIT),
            }
            for label, value in fields[:MAX_FIELDS]
        ],
    }


def text_block(mrkdwn: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_TEXT_LIMIT)},
    }


def link_button_blocks(
    label: str, url: str | None, action_id: str = "open_console"
) -> list[dict[str, Any]]:
    """An actions block with one link button, or nothing when there is no usable URL (a cut
    URL would lead somewhere else)."""
    if not url or len(url) > BUTTON_URL_LIMIT or not url.startswith("https://"):
        return []
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(label, 75)},
        "url": url,
        "action_id": action_id,
    }
    return [{"type": "actions", "elements": [button]}]


def context_block(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn, 2000)}]}
