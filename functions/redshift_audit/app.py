"""redshift_audit: Redshift user-activity log → sensitive statements → audit table + Slack.

A CloudWatch Logs subscription filter on each cluster's ``useractivitylog`` group (the group
names are a template parameter) invokes this function asynchronously with a gzip+base64 batch
of log events. For each log event, ``RedshiftAuditor`` (see redshift_auditing.py): parses the
user-activity records, classifies every statement with sqlglot (DDL, DCL, other), stores one
audit line per sensitive statement in S3, posts one Block Kit message per log event through
``datalake_shared.slack`` (idempotent on the log event), and announces it on EventBridge.
CONTROL_MESSAGE payloads (CloudWatch checking the destination) are acknowledged and ignored.

When an alert could not be posted, or records not stored, the handler raises after the whole
payload: Lambda retries the invocation (stored records are rewritten identically, posted alerts
are skipped) and then hands it to the OnFailure destination. Logs never hold the SQL (it can
name secrets) nor the webhook URL; the audit table holds the SQL, passwords masked.
"""

from functools import cache
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from redshift_audit_alerts import render_sensitive_query
from redshift_audit_announcements import EventBridgeAuditAnnouncer
from redshift_audit_log import (
    CONTROL_MESSAGE,
    DATA_MESSAGE,
    InvalidPayloadError,
    cluster_of,
    decode_payload,
)
from redshift_audit_settings import get_settings
from redshift_audit_store import S3AuditStore
from redshift_auditing import (
    AlertStatus,
    EventOutcome,
    LogEvent,
    LogSource,
    RedshiftAuditor,
    describe_error,
)

from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.slack import (
    IdempotentSlackPoster,
    LazySlackPoster,
    SecretWebhookUrl,
    SlackWebhook,
)

IDEMPOTENCY_KEY_PREFIX: Final = "redshift-audit-slack"
ALERT_METRICS: Final = {
    AlertStatus.POSTED: "AlertsPosted",
    AlertStatus.DUPLICATE: "AlertsDuplicate",
    AlertStatus.IN_PROGRESS_ELSEWHERE: "AlertsDuplicate",
    AlertStatus.NOT_CONFIGURED: "SlackNotConfigured",
    AlertStatus.FAILED: "SlackPostFailed",
}


class AuditFailedError(RuntimeError):
    """Some log events were not stored or not alerted; raised so Lambda retries the payload."""


def build_slack_poster() -> IdempotentSlackPoster:
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
    )

    settings = get_settings()
    webhook = SlackWebhook(
        SecretWebhookUrl(
            settings.slack_webhook_secret, allow_local=settings.slack_allow_local_webhook
        )
    )
    return IdempotentSlackPoster(
        webhook,
        DynamoDBPersistenceLayer(table_name=settings.idempotency_table),
        key_prefix=IDEMPOTENCY_KEY_PREFIX,
    )


@cache
def default_auditor() -> RedshiftAuditor:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return RedshiftAuditor(
        store=S3AuditStore(settings.audit_bucket, settings.audit_prefix),
        poster=LazySlackPoster(build_slack_poster),
        announcer=EventBridgeAuditAnnouncer.for_bus(settings.event_bus_name, settings.audit_bucket),
        render=render_sensitive_query,
        ignore_users=settings.ignore_users,
    )


def report(source: LogSource, outcome: EventOutcome) -> None:
    if outcome.activities == 0:
        metrics.add_metric(name="UnrecognisedLogLines", unit=MetricUnit.Count, value=1)
        logger.warning(
            "Log event is not a user-activity record; skipped",
            extra={"log_event_id": outcome.log_event_id, "log_group": source.log_group},
        )
        return
    if not outcome.records:
        logger.debug(
            "No sensitive statement",
            extra={"log_event_id": outcome.log_event_id, "ignored_user": outcome.ignored_user},
        )
        return
    metrics.add_metric(
        name="SensitiveStatements", unit=MetricUnit.Count, value=len(outcome.records)
    )
    if outcome.unparsed:
        metrics.add_metric(
            name="StatementsClassifiedByKeyword", unit=MetricUnit.Count, value=outcome.unparsed
        )
    if outcome.alert in ALERT_METRICS:
        metrics.add_metric(name=ALERT_METRICS[outcome.alert], unit=MetricUnit.Count, value=1)
    first = outcome.records[0]
    # Who, where and what kind, never the SQL itself (it can hold secrets).
    facts = {
        "log_event_id": outcome.log_event_id,
        "cluster": source.cluster,
        "database": first.database,
        "user": first.user,
        "statement_types": [record.statement_type for record in outcome.records],
        "categories": sorted({record.category for record in outcome.records}),
        "s3_key": outcome.key,
        "alert": str(outcome.alert),
    }
    if outcome.alert is AlertStatus.FAILED:
        logger.error(
            "Slack alert not posted; the audit record is stored and the invocation will be retried",
            extra={**facts, "error": outcome.alert_error},
        )
    elif outcome.alert is AlertStatus.NOT_CONFIGURED:
        logger.warning(
            "Slack webhook not configured: audit record stored, not posted",
            extra={**facts, "error": outcome.alert_error},
        )
    else:
        logger.info("Sensitive statements audited", extra=facts)
    if outcome.announce_error:
        metrics.add_metric(name="EventPublishFailed", unit=MetricUnit.Count, value=1)
        logger.warning(
            "Sensitive Query Detected not published",
            extra={**facts, "error": outcome.announce_error},
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, auditor: RedshiftAuditor | None = None
) -> dict[str, Any]:
    """``auditor`` lets tests inject one with fakes; Lambda never passes it."""
    try:
        payload = decode_payload(event)
    except InvalidPayloadError as error:
        metrics.add_metric(name="InvalidPayloads", unit=MetricUnit.Count, value=1)
        logger.error(
            "Event is not a CloudWatch Logs subscription payload", extra={"error": str(error)}
        )
        raise
    if payload.messageType == CONTROL_MESSAGE:
        logger.info(
            "CloudWatch Logs control message acknowledged", extra={"log_group": payload.logGroup}
        )
        return {"message_type": CONTROL_MESSAGE, "log_events": 0}
    if payload.messageType != DATA_MESSAGE:
        logger.warning(
            "Unexpected messageType; reading its log events",
            extra={"message_type": payload.messageType},
        )

    auditor = auditor or default_auditor()
    auditor.poster.register_lambda_context(context)
    source = LogSource(
        account=payload.owner,
        log_group=payload.logGroup,
        log_stream=payload.logStream,
        cluster=cluster_of(payload.logGroup),
    )
    metrics.add_metric(
        name="LogEventsReceived", unit=MetricUnit.Count, value=len(payload.logEvents)
    )
    outcomes: list[EventOutcome] = []
    unstored: list[str] = []
    for log_event in payload.logEvents:
        with logger.append_context_keys(log_event_id=log_event.id):
            try:
                outcome = auditor.audit(source, LogEvent(log_event.id, str(log_event.message)))
            except Exception as error:
                metrics.add_metric(name="AuditStoreFailed", unit=MetricUnit.Count, value=1)
                logger.error(
                    "Audit record not stored; nothing posted; the invocation will be retried",
                    extra={"error": describe_error(error)},
                )
                unstored.append(log_event.id)
                continue
            report(source, outcome)
            outcomes.append(outcome)

    unposted = [o.log_event_id for o in outcomes if o.alert is AlertStatus.FAILED]
    if unstored or unposted:
        raise AuditFailedError(
            f"{len(unstored)} log event(s) not stored {unstored}, "
            f"{len(unposted)} alert(s) not posted {unposted}; retrying"
        )
    return {
        "message_type": payload.messageType,
        "log_events": len(payload.logEvents),
        "sensitive_statements": sum(len(o.records) for o in outcomes),
        "alerts_posted": sum(o.alert is AlertStatus.POSTED for o in outcomes),
        "keys": [o.key for o in outcomes if o.key],
    }
