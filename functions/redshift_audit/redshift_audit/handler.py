"""redshift_audit: Redshift user-activity log → sensitive statements → audit table + Slack.

A CloudWatch Logs subscription filter on a cluster's or serverless namespace's
``useractivitylog`` group (one per group of the pipeline config's ``redshift_log_groups``, kept
by the config loader; or the template's single-group RedshiftUserActivityLogGroup) invokes this
function asynchronously with a gzip+base64 batch of log events. ``RedshiftAuditor`` (see
service.py) parses each log event's user-activity records, classifies every statement with
sqlglot (DDL, DCL, other), stores one audit object per log event with sensitive statements in S3
and announces it on EventBridge; then ONE Block Kit message summarises the whole batch through
``datalake_shared.slack`` (idempotent on the batch's log event ids), so a burst of DDL is one
post, not one per line.
CONTROL_MESSAGE payloads (CloudWatch checking the destination) are acknowledged and ignored.

The post is started only when the invocation has time left for the webhook's whole retry
budget plus a margin. When records could not be stored (nothing is posted then), the alert
could not be posted, there was no time to start it, or an announcement is too large for
EventBridge (it can never be put: never only logged), the handler raises after storing:
Lambda retries the invocation (stored records are rewritten identically, a posted batch is
not posted again) and then hands it to the OnFailure destination. Logs never hold the SQL (it
can name secrets) nor the webhook URL; the audit table holds the SQL, passwords masked.
"""

from functools import cache
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake_shared.event_publisher import report_unannounced
from datalake_shared.event_shapes import reject
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.slack import (
    IdempotentSlackPoster,
    LazySlackPoster,
    RetryPolicy,
    slack_poster_from_settings,
)
from datalake_shared.validation import describe_error
from redshift_audit.alerts import render_batch_alert
from redshift_audit.announcer import EventBridgeAuditAnnouncer
from redshift_audit.models import (
    CONTROL_MESSAGE,
    DATA_MESSAGE,
    InvalidPayloadError,
    cluster_of,
    decode_payload,
)
from redshift_audit.service import (
    AlertStatus,
    BatchAlert,
    EventOutcome,
    LogEvent,
    LogSource,
    RedshiftAuditor,
    time_needed_to_post,
)
from redshift_audit.settings import get_settings
from redshift_audit.store import S3AuditStore

IDEMPOTENCY_KEY_PREFIX: Final = "redshift-audit-slack"
# Up to 20 s of retries (429 Retry-After, 5xx) per post, well inside the 60 s function timeout.
SLACK_RETRY_POLICY: Final = RetryPolicy()
POST_MARGIN_S: Final = 5.0
"""Beyond the retry budget: the secret, the idempotency record, returning."""
ALERT_METRICS: Final = {
    AlertStatus.POSTED: "AlertsPosted",
    AlertStatus.DUPLICATE: "AlertsDuplicate",
    AlertStatus.IN_PROGRESS_ELSEWHERE: "AlertsDuplicate",
    AlertStatus.NOT_CONFIGURED: "SlackNotConfigured",
    AlertStatus.DEFERRED: "SlackPostDeferred",
    AlertStatus.FAILED: "SlackPostFailed",
}


class AuditFailedError(RuntimeError):
    """Some log events were not stored or the batch not alerted; raised so Lambda retries."""


class AlertDeferredError(AuditFailedError):
    """Too little time left to start the Slack post; the records are stored, the retry posts."""


def build_slack_poster() -> IdempotentSlackPoster:
    return slack_poster_from_settings(get_settings(), IDEMPOTENCY_KEY_PREFIX, SLACK_RETRY_POLICY)


@cache
def default_auditor() -> RedshiftAuditor:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return RedshiftAuditor(
        store=S3AuditStore(settings.audit_bucket, settings.audit_prefix),
        poster=LazySlackPoster(build_slack_poster),
        announcer=EventBridgeAuditAnnouncer.for_bus(settings.event_bus_name, settings.audit_bucket),
        render=render_batch_alert,
        post_time_needed_s=time_needed_to_post(SLACK_RETRY_POLICY, POST_MARGIN_S),
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
    # Who, where and what kind, never the SQL itself (it can hold secrets).
    first = outcome.records[0]
    facts = {
        "log_event_id": outcome.log_event_id,
        "cluster": source.cluster,
        "database": first.database,
        "user": first.user,
        "statement_types": [record.statement_type for record in outcome.records],
        "categories": sorted({record.category for record in outcome.records}),
        "s3_key": outcome.key,
    }
    logger.info("Sensitive statements audited", extra=facts)
    report_unannounced(
        "Sensitive Query Detected",
        too_large=outcome.announce_too_large,
        error=outcome.announce_error,
        facts=facts,
        too_large_consequence="the invocation will fail once the batch is alerted, and end in "
        "OnFailure",
    )


def report_alert(source: LogSource, alert: BatchAlert) -> None:
    if alert.status is AlertStatus.NOT_NEEDED:
        return
    metrics.add_metric(name=ALERT_METRICS[alert.status], unit=MetricUnit.Count, value=1)
    facts = {
        "cluster": source.cluster,
        "log_group": source.log_group,
        "alert_id": alert.alert_id,
        "statements": alert.statements,
        "log_events_alerted": alert.log_events,
        "alert": str(alert.status),
    }
    match alert.status:
        case AlertStatus.FAILED | AlertStatus.DEFERRED:
            logger.error(
                "Slack alert not posted; the audit records are stored and the invocation will "
                "be retried",
                extra={**facts, "error": alert.error},
            )
        case AlertStatus.NOT_CONFIGURED:
            logger.warning(
                "Slack webhook not configured: audit records stored, not posted",
                extra={**facts, "error": alert.error},
            )
        case _:
            logger.info("Batch of sensitive statements alerted", extra=facts)


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
        reject(error)
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

    if unstored:
        # The summary covers the whole batch: posted by the retry, once everything is stored.
        raise AuditFailedError(
            f"{len(unstored)} log event(s) not stored {unstored}; nothing posted; retrying"
        )
    alert = auditor.alert(
        source,
        [log_event.id for log_event in payload.logEvents],
        [record for outcome in outcomes for record in outcome.records],
        context.get_remaining_time_in_millis() / 1000,
    )
    report_alert(source, alert)
    if alert.status is AlertStatus.DEFERRED:
        raise AlertDeferredError(
            f"Slack alert of {alert.statements} sensitive statement(s) not started "
            f"({alert.error}); the audit records are stored, Lambda's retry will post it"
        )
    if alert.status is AlertStatus.FAILED:
        raise AuditFailedError(
            f"Slack alert of {alert.statements} sensitive statement(s) not posted "
            f"({alert.error}); the audit records are stored; retrying"
        )
    too_large = [o.log_event_id for o in outcomes if o.announce_too_large]
    if too_large:
        raise AuditFailedError(
            f"Sensitive Query Detected of {len(too_large)} log event(s) {too_large} too large "
            "for EventBridge; the audit records are stored and alerted; failing the invocation "
            "so that it ends in OnFailure"
        )
    return {
        "message_type": payload.messageType,
        "log_events": len(payload.logEvents),
        "sensitive_statements": sum(len(o.records) for o in outcomes),
        "alert": str(alert.status),
        "alerts_posted": int(alert.status is AlertStatus.POSTED),
        "keys": [o.key for o in outcomes if o.key],
    }
