"""The Slack webhook URL: read from Secrets Manager, never from code or environment variables.

``SecretWebhookUrl`` reads it through Powertools Parameters (cached for ``max_age`` seconds),
accepts a plain URL or JSON ``{"webhook_url": ...}`` and validates it: ``https`` on a Slack
webhook host only, so a tampered secret cannot turn alerts into a way to send data anywhere.
``http://127.0.0.1`` (loopback) is accepted only when the caller allows it, for the local sink
used by tests and ``make demo``; loopback reaches nothing outside the sandbox, so allowing it by
mistake in AWS opens no path out. ``WebhookUrl`` prints as its host only, and no error message
holds the URL (its path is the credential).
"""

import json
from dataclasses import dataclass, field
from typing import Final, Protocol
from urllib.parse import urlsplit

SLACK_WEBHOOK_HOSTS: Final = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
SECRET_URL_KEYS: Final = ("webhook_url", "slack_webhook")


class SlackWebhookError(RuntimeError):
    """Base of the Slack webhook errors (those below, and the post's SlackPostError); messages
    never contain the webhook URL."""


class WebhookConfigError(SlackWebhookError):
    """The secret does not hold a usable webhook URL."""


class WebhookNotConfiguredError(WebhookConfigError):
    """The secret holds no URL yet (the stack creates it empty, to be filled in): alerts are
    stored and counted, not retried, until someone sets it."""


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
