"""pipeline_monitor: monitor topic (SNS) → one stored record per event → Slack for failures.

EventBridge rules (Glue job and crawler state changes, Step Functions execution status changes,
CloudWatch alarm state changes) and the Lambda destinations of asynchronous functions publish to
the monitor topic; SNS invokes this function asynchronously with one message per invocation.

For each message, ``PipelineMonitor`` (see service.py for the guarantees):
stores the normalized record in S3 first, then posts a Block Kit alert for failures through
``datalake_shared.slack`` (webhook URL from Secrets Manager, retries honouring Retry-After,
idempotent on the event id), then announces it on EventBridge. When an alert could not be
posted, a record not stored, or an announcement too large for EventBridge (it can never be put,
so it is never only logged), the handler raises once every message is handled: Lambda retries
the invocation (stored records are rewritten identically, posted alerts are not repeated) and
then hands the event to the OnFailure destination. ``SlackPostFailed`` counts those alerts.
"""

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from datalake_shared.event_publisher import report_unannounced
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.slack import (
    LazySlackPoster,
    slack_poster_from_settings,
)
from datalake_shared.validation import describe_error
from pipeline_monitor.alerts import IDEMPOTENCY_KEY_PREFIX, AlertPoster
from pipeline_monitor.announcer import EventBridgeRecordAnnouncer
from pipeline_monitor.models import SnsEvent
from pipeline_monitor.records import Service
from pipeline_monitor.service import AlertStatus, MonitorOutcome, PipelineMonitor
from pipeline_monitor.settings import get_settings
from pipeline_monitor.store import S3MonitorStore

ALERT_METRICS: Final = {
    AlertStatus.POSTED: "AlertsPosted",
    AlertStatus.DUPLICATE: "AlertsDuplicate",
    AlertStatus.IN_PROGRESS_ELSEWHERE: "AlertsDuplicate",
    AlertStatus.SUPPRESSED: "AlertsSuppressed",
    AlertStatus.NOT_CONFIGURED: "SlackNotConfigured",
    AlertStatus.FAILED: "SlackPostFailed",
}


class MonitorFailedError(RuntimeError):
    """Some events were not stored or not alerted; raised so Lambda retries the invocation."""


def build_slack_poster() -> AlertPoster:
    return slack_poster_from_settings(get_settings(), IDEMPOTENCY_KEY_PREFIX)


@cache
def default_monitor() -> PipelineMonitor:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return PipelineMonitor(
        store=S3MonitorStore(settings.monitor_bucket, settings.monitor_prefix),
        poster=LazySlackPoster(build_slack_poster),
        announcer=EventBridgeRecordAnnouncer.for_bus(
            settings.event_bus_name, settings.monitor_bucket
        ),
        alert_on=settings.alert_on,
    )


def sns_messages(event: Any) -> list[tuple[str, str, datetime]]:
    """(message, message id, publish time) of each SNS record. Anything else (an EventBridge
    event sent straight to the function, a malformed event) is handled as one message, so it is
    stored rather than lost."""
    if isinstance(event, dict) and "Records" in event:
        try:
            parsed = SnsEvent.model_validate(event)
        except ValidationError as error:
            logger.error(
                "Event has Records but is not an SNS event; storing it as an unknown event",
                extra={"error": describe_error(error)[:500]},
            )
        else:
            return [
                (record.Sns.Message, record.Sns.MessageId, record.Sns.Timestamp)
                for record in parsed.Records
            ]
    text = json.dumps(event, default=str, sort_keys=True, separators=(",", ":"))
    return [(text, hashlib.sha256(text.encode()).hexdigest()[:32], datetime.now(UTC))]


def report(outcome: MonitorOutcome) -> None:
    record = outcome.record
    metrics.add_metric(name="EventsRecorded", unit=MetricUnit.Count, value=1)
    if outcome.alert in ALERT_METRICS:
        metrics.add_metric(name=ALERT_METRICS[outcome.alert], unit=MetricUnit.Count, value=1)
    facts = {
        "event_id": record.event_id,
        "monitored_service": str(record.service),
        "resource": record.resource,
        "run_id": record.run_id,
        "state": record.state,
        "severity": str(record.severity),
        "detail_type": record.detail_type,
        "s3_key": outcome.key,
        "alert": str(outcome.alert),
    }
    if record.service is Service.UNKNOWN:
        metrics.add_metric(name="UnknownEvents", unit=MetricUnit.Count, value=1)
        logger.warning(
            "Unrecognised event stored as 'unknown'",
            extra={**facts, "event_source": record.source, "reason": record.error_message},
        )
    if outcome.alert is AlertStatus.FAILED:
        logger.error(
            "Slack alert not posted; the record is stored and the invocation will be retried",
            extra={**facts, "error": outcome.alert_error},
        )
    elif outcome.alert is AlertStatus.NOT_CONFIGURED:
        logger.warning(
            "Slack webhook not configured: event stored, not posted",
            extra={**facts, "error": outcome.alert_error},
        )
    elif outcome.alert is AlertStatus.SUPPRESSED:
        logger.warning("Failure of this function itself: stored, not alerted", extra=facts)
    else:
        logger.info(
            "Pipeline event recorded", extra={**facts, "alert_attempts": outcome.alert_attempts}
        )
    report_unannounced(
        "Pipeline Event Recorded",
        too_large=outcome.announce_too_large,
        error=outcome.announce_error,
        facts=facts,
        too_large_consequence="the invocation will fail and end in OnFailure",
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, monitor: PipelineMonitor | None = None
) -> dict[str, Any]:
    """``monitor`` lets tests inject one with fakes; Lambda never passes it."""
    monitor = monitor or default_monitor()
    monitor.poster.register_lambda_context(context)
    own_name = getattr(context, "function_name", None)
    outcomes: list[MonitorOutcome] = []
    unstored: list[str] = []
    for message, message_id, published in sns_messages(event):
        with logger.append_context_keys(sns_message_id=message_id):
            try:
                outcome = monitor.handle(
                    message, message_id=message_id, received=published, own_function_name=own_name
                )
            except Exception as error:
                metrics.add_metric(name="RecordStoreFailed", unit=MetricUnit.Count, value=1)
                logger.exception(
                    "Event not stored; nothing was posted and the invocation will be retried",
                    extra={"error": describe_error(error)},
                )
                unstored.append(message_id)
                continue
            report(outcome)
            outcomes.append(outcome)

    unposted = [o.record.event_id for o in outcomes if o.alert is AlertStatus.FAILED]
    too_large = [o.record.event_id for o in outcomes if o.announce_too_large]
    if unstored or unposted or too_large:
        raise MonitorFailedError(
            f"{len(unstored)} event(s) not stored (SNS message ids {unstored}), "
            f"{len(unposted)} alert(s) not posted (event ids {unposted}), "
            f"{len(too_large)} announcement(s) too large for EventBridge (event ids "
            f"{too_large}); retrying"
        )
    return {
        "records": len(outcomes),
        "alerts": {
            status: sum(o.alert is status for o in outcomes)
            for status in AlertStatus
            if any(o.alert is status for o in outcomes)
        },
        "keys": [o.key for o in outcomes],
    }
