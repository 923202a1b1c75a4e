"""datalake_shared.slack.webhook_url: which URLs are accepted, what a secret may hold, and how a
rotated secret is picked up."""

import json
from dataclasses import dataclass, field

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from datalake_shared.slack import (
    SecretWebhookUrl,
    WebhookConfigError,
    WebhookNotConfiguredError,
    powertools_secret,
    validate_webhook_url,
    webhook_url_from_secret,
)

SLACK_URL = "https://hooks.slack.com/services/T0AAA0AAA/B0BBB0BBB/abcdefghijklmnopqrstuvwx"
ROTATED_URL = "https://hooks.slack.com/services/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"


@dataclass
class FakeSecrets:
    """Stands in for Secrets Manager: answers the current value and records every read."""

    value: str
    reads: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, name: str, max_age: int) -> str:
        self.reads.append((name, max_age))
        return self.value


# ------------------------------------------------------------------------------ accepted URLs


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (SLACK_URL, "hooks.slack.com"),
        ("https://hooks.slack-gov.com/services/T/B/x", "hooks.slack-gov.com"),
        ("https://hooks.slack.com:443/services/T/B/x", "hooks.slack.com"),
        ("https://HOOKS.Slack.com/services/T/B/x", "hooks.slack.com"),
        ("https://hooks.slack.com/x", "hooks.slack.com"),
    ],
)
def test_slack_webhook_urls_are_accepted_with_their_host(url: str, host: str) -> None:
    # Given an https URL on a Slack webhook host (any case, default port, shortest path)
    # When validated / Then it is kept as given, and its host is known in lower case
    webhook = validate_webhook_url(url)
    assert (webhook.value, webhook.host) == (url, host)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8080/services/T/B/x", "127.0.0.1"),
        ("https://localhost/services/T/B/x", "localhost"),
        ("http://[::1]:9000/x", "::1"),
    ],
)
def test_loopback_urls_are_accepted_over_http_or_https_when_allowed(url: str, host: str) -> None:
    # Given the local sink's kind of URL, local webhooks allowed / When validated
    webhook = validate_webhook_url(url, allow_local=True)
    # Then it is kept whole with its host
    assert (webhook.value, webhook.host) == (url, host)


def test_webhook_prints_as_its_host_only() -> None:
    # Given a validated URL / Then str and repr name the host, never the path (the credential)
    webhook = validate_webhook_url(SLACK_URL)
    assert str(webhook) == "<Slack webhook at hooks.slack.com>"
    assert "services" not in repr(webhook)


# ------------------------------------------------------------------------------ refused URLs


@pytest.mark.parametrize(
    "url",
    [
        SLACK_URL + "\n",
        SLACK_URL + "\x07",
        "https://hooks.slack.com/services/T/B\x00/x",
        " ",
    ],
)
def test_urls_with_control_characters_are_refused(url: str) -> None:
    # Given a URL with a control character (even trailing, where split() would not see it)
    # When validated / Then it is refused
    with pytest.raises(WebhookConfigError, match="whitespace/control"):
        validate_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://[hooks.slack.com/services/T/B/x",
        "https://hooks.slack.com:99999/services/T/B/x",
        "https://hooks.slack.com:port/services/T/B/x",
    ],
)
def test_urls_that_do_not_parse_are_refused(url: str) -> None:
    # Given a URL Python cannot split (bad brackets, bad port) / Then it is refused as such
    with pytest.raises(WebhookConfigError, match="does not parse"):
        validate_webhook_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://user@hooks.slack.com/services/T/B/x",
        "https://:secret@hooks.slack.com/services/T/B/x",
        "http://user@127.0.0.1:8080/services/T/B/x",
    ],
)
def test_urls_with_user_information_are_refused(url: str) -> None:
    # Given a user name alone, or a password alone / Then the URL is refused
    with pytest.raises(WebhookConfigError, match="user information"):
        validate_webhook_url(url, allow_local=True)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://hooks.slack.com/", "no path"),
        ("https://hooks.slack.com:80/services/T/B/x", "port 80 "),
        ("https:///services/T/B/x", "not a Slack webhook host"),
        ("https://slack.com/services/T/B/x", "not a Slack webhook host"),
        ("ws://localhost/x", "not http"),
    ],
)
def test_other_unusable_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(WebhookConfigError, match=problem):
        validate_webhook_url(url, allow_local=True)


# ------------------------------------------------------------------------------ the secret


@pytest.mark.parametrize(
    "secret",
    [
        json.dumps({"webhook_url": f"  {SLACK_URL} "}),
        json.dumps({"webhook_url": SLACK_URL, "slack_webhook": ROTATED_URL}),
        json.dumps({"webhook_url": "  ", "slack_webhook": SLACK_URL}),
        json.dumps({"webhook_url": None, "slack_webhook": SLACK_URL}),
    ],
)
def test_secret_json_gives_the_first_set_url_key_stripped(secret: str) -> None:
    # Given JSON with "webhook_url" first, then "slack_webhook" / Then the first set one is used
    assert webhook_url_from_secret(secret).value == SLACK_URL


@pytest.mark.parametrize(
    "secret",
    ['{"slack_webhook": ""}', '{"slack_webhook": null, "channel": "#alerts"}', "\n\t"],
)
def test_secret_with_an_unset_url_is_not_configured_yet(secret: str) -> None:
    with pytest.raises(WebhookNotConfiguredError):
        webhook_url_from_secret(secret)


@pytest.mark.parametrize(
    "secret",
    ["{not json", '{"channel": ""}', '{"webhook_url": 3}', '{"url": null}'],
)
def test_secret_without_a_url_is_a_configuration_error_not_an_unset_one(secret: str) -> None:
    # Given a secret that is set, but wrongly / Then it is a configuration error to fix,
    # not the "not configured yet" of a fresh stack
    with pytest.raises(WebhookConfigError) as raised:
        webhook_url_from_secret(secret)
    assert type(raised.value) is WebhookConfigError


def test_secret_url_is_validated_with_the_local_flag() -> None:
    # Given a secret holding a loopback URL / Then it is accepted only when local is allowed
    secret = json.dumps({"webhook_url": "http://127.0.0.1:8080/services/T/B/x"})
    assert webhook_url_from_secret(secret, allow_local=True).host == "127.0.0.1"
    with pytest.raises(WebhookConfigError, match="SLACK_ALLOW_LOCAL_WEBHOOK"):
        webhook_url_from_secret(secret)


# ------------------------------------------------------------------------------ what refusals say

SLACK_HOSTS = "(hooks.slack-gov.com, hooks.slack.com)"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", "the webhook secret is empty"),
        ('{"webhook_url": ""}', "the webhook secret's URL is not set yet"),
        ("{not json", "secret looks like JSON but does not parse"),
        (
            '{"channel": "#a"}',
            "secret JSON has no string key among ['webhook_url', 'slack_webhook']",
        ),
        (
            "https://hooks.slack.com/services/T/B/x\x07",
            "webhook URL is empty or contains whitespace/control characters",
        ),
        ("https://hooks.slack.com:99999/services/T/B/x", "webhook URL does not parse"),
        ("https://u@hooks.slack.com/services/T/B/x", "webhook URL must not carry user information"),
        (
            "https:///services/T/B/x",
            f"webhook host (none) is not a Slack webhook host {SLACK_HOSTS}",
        ),
        (
            "https://evil.example/services/T/B/x",
            f"webhook host evil.example is not a Slack webhook host {SLACK_HOSTS}",
        ),
        ("https://hooks.slack.com/", "webhook URL has no path"),
    ],
)
def test_refusal_tells_the_operator_what_to_fix_and_never_the_url(
    secret: str, message: str
) -> None:
    # Given a secret an operator set wrongly (or not yet) / When it is read
    with pytest.raises(WebhookConfigError) as raised:
        webhook_url_from_secret(secret)
    # Then the error, all an operator sees of it, is exactly the problem: the offending host and
    # the allowed ones when the host is wrong, and nothing of the URL's path (the credential)
    assert str(raised.value) == message


# ------------------------------------------------------------------------------ reading it


def test_secret_is_read_by_name_with_a_five_minute_cache() -> None:
    # Given a source over a secret / When the URL is asked for
    secrets = FakeSecrets(SLACK_URL)
    SecretWebhookUrl("datalake-events/slack", fetch=secrets)()
    # Then the secret is read by its name, cached for 300 s by default
    assert secrets.reads == [("datalake-events/slack", 300)]


def test_unchanged_secret_is_not_validated_again() -> None:
    # Given a source that already gave the URL
    secrets = FakeSecrets(SLACK_URL)
    source = SecretWebhookUrl("slack", max_age=60, fetch=secrets)
    first = source()
    # When asked again with the secret unchanged
    second = source()
    # Then the secret is read again (its cache decides) but the same validated URL is served
    assert second is first
    assert secrets.reads == [("slack", 60), ("slack", 60)]


def test_rotated_secret_is_picked_up() -> None:
    # Given a source that already gave the URL
    secrets = FakeSecrets(SLACK_URL)
    source = SecretWebhookUrl("slack", fetch=secrets)
    source()
    # When the secret is rotated to a new webhook URL
    secrets.value = json.dumps({"webhook_url": ROTATED_URL})
    # Then the new URL is served
    assert source().value == ROTATED_URL


def test_secret_rotated_to_an_unusable_url_is_refused() -> None:
    # Given a source that already gave a good URL
    secrets = FakeSecrets(SLACK_URL)
    source = SecretWebhookUrl("slack", fetch=secrets)
    source()
    # When the secret is rotated to a non-Slack URL / Then it is refused, not served
    secrets.value = "https://example.com/services/T/B/x"
    with pytest.raises(WebhookConfigError, match="not a Slack webhook host"):
        source()


def test_secret_source_refuses_a_loopback_url_by_default() -> None:
    # Given a secret holding a loopback URL, and a source told nothing about local webhooks
    source = SecretWebhookUrl("slack", fetch=FakeSecrets("http://127.0.0.1:9/services/x"))
    # When the URL is asked for / Then it is refused
    with pytest.raises(WebhookConfigError, match="SLACK_ALLOW_LOCAL_WEBHOOK"):
        source()


@pytest.mark.parametrize(("allow_local", "accepted"), [(True, True), (False, False)])
def test_secret_source_applies_the_local_flag(allow_local: bool, accepted: bool) -> None:
    # Given a secret holding a loopback URL / Then the source's flag decides
    source = SecretWebhookUrl(
        "slack", allow_local=allow_local, fetch=FakeSecrets("http://127.0.0.1:9/services/x")
    )
    if accepted:
        assert source().host == "127.0.0.1"
    else:
        with pytest.raises(WebhookConfigError):
            source()


def test_secret_is_reread_once_its_cache_expires() -> None:
    # Given the secret in (moto) Secrets Manager, read through Powertools with no caching
    parameters.clear_caches()
    with mock_aws():
        client = boto3.client("secretsmanager")
        client.create_secret(Name="slack", SecretString=SLACK_URL)
        source = SecretWebhookUrl("slack", max_age=0)
        first = source()
        # When it is rotated
        client.put_secret_value(SecretId="slack", SecretString=ROTATED_URL)
        second = source()
    parameters.clear_caches()
    # Then the next read sees the new URL
    assert (first.value, second.value) == (SLACK_URL, ROTATED_URL)


def test_binary_secret_is_refused_saying_how_to_store_it() -> None:
    # Given a secret stored as binary / When read
    parameters.clear_caches()
    with mock_aws():
        boto3.client("secretsmanager").create_secret(Name="slack", SecretBinary=SLACK_URL.encode())
        with pytest.raises(WebhookConfigError) as raised:
            powertools_secret("slack", max_age=0)
    parameters.clear_caches()
    # Then it is refused, and the error says how to store the URL instead
    assert str(raised.value) == "secret is binary; store the webhook URL as a secret string"
