"""Slack incoming webhooks for the alerting functions (pipeline_monitor, redshift_audit).

Four pieces, each usable on its own:

- ``webhook_url``: the URL, read from Secrets Manager and validated (https on a Slack webhook
  host; loopback only when allowed, for the local sink);
- ``webhook``: the post, with bounded, Retry-After-aware retries;
- ``posters``: once per alert (Powertools idempotency), built on the first alert only;
- ``blocks``: the Block Kit blocks the alert messages are made of.

Whatever fails, the URL (whose path is the credential) never reaches a log line or an exception
message. The functions, their tests and the benchmarks import the names below from
``datalake_shared.slack``.
"""

from datalake_shared.slack.blocks import (
    BUTTON_URL_LIMIT,
    CODE_BLOCK_LIMIT,
    FIELD_TEXT_LIMIT,
    HEADER_TEXT_LIMIT,
    MAX_FIELDS,
    SECTION_TEXT_LIMIT,
    TRUNCATED_MARK,
    code_block,
    context_block,
    escape_mrkdwn,
    fields_block,
    header_block,
    link_button_blocks,
    text_block,
    truncate,
)
from datalake_shared.slack.posters import (
    AlertOutcome,
    AlertPosting,
    IdempotentSlackPoster,
    LazySlackPoster,
    slack_poster_from_settings,
)
from datalake_shared.slack.webhook import (
    HttpAnswer,
    PostResult,
    RetryPolicy,
    SlackPostError,
    SlackWebhook,
    Transport,
    parse_retry_after,
    urllib_transport,
)
from datalake_shared.slack.webhook_url import (
    LOOPBACK_HOSTS,
    SECRET_URL_KEYS,
    SLACK_WEBHOOK_HOSTS,
    SecretFetcher,
    SecretWebhookUrl,
    SlackWebhookError,
    WebhookConfigError,
    WebhookNotConfiguredError,
    WebhookUrl,
    powertools_secret,
    validate_webhook_url,
    webhook_url_from_secret,
)

__all__ = [
    "BUTTON_URL_LIMIT",
    "CODE_BLOCK_LIMIT",
    "FIELD_TEXT_LIMIT",
    "HEADER_TEXT_LIMIT",
    "LOOPBACK_HOSTS",
    "MAX_FIELDS",
    "SECRET_URL_KEYS",
    "SECTION_TEXT_LIMIT",
    "SLACK_WEBHOOK_HOSTS",
    "TRUNCATED_MARK",
    "AlertOutcome",
    "AlertPosting",
    "HttpAnswer",
    "IdempotentSlackPoster",
    "LazySlackPoster",
    "PostResult",
    "RetryPolicy",
    "SecretFetcher",
    "SecretWebhookUrl",
    "SlackPostError",
    "SlackWebhook",
    "SlackWebhookError",
    "Transport",
    "WebhookConfigError",
    "WebhookNotConfiguredError",
    "WebhookUrl",
    "code_block",
    "context_block",
    "escape_mrkdwn",
    "fields_block",
    "header_block",
    "link_button_blocks",
    "parse_retry_after",
    "powertools_secret",
    "slack_poster_from_settings",
    "text_block",
    "truncate",
    "urllib_transport",
    "validate_webhook_url",
    "webhook_url_from_secret",
]
