"""Posting each alert once: ``IdempotentSlackPoster`` wraps the post in Powertools idempotency
keyed on an alert id, so a redelivered event never posts twice; ``LazySlackPoster`` builds it on
the first alert only."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from datalake_shared.slack.webhook import RetryPolicy, SlackWebhook
from datalake_shared.slack.webhook_url import SecretWebhookUrl

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from datalake_shared.settings import SlackAlertSettings


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


def slack_poster_from_settings(
    settings: "SlackAlertSettings", key_prefix: str, policy: RetryPolicy | None = None
) -> IdempotentSlackPoster:
    """The alerting functions' poster: the webhook from the settings' secret, each alert posted
    once per id (recorded in the settings' idempotency table under ``key_prefix``)."""
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
    )

    webhook = SlackWebhook(
        SecretWebhookUrl(
            settings.slack_webhook_secret, allow_local=settings.slack_allow_local_webhook
        ),
        policy=policy,
    )
    return IdempotentSlackPoster(
        webhook,
        DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
        key_prefix=key_prefix,
    )
