"""What the monitor does with one event: store it, then alert if it must, then announce it.

The order is the guarantee:

1. **Store first.** The normalized record is written to S3 under a key made from the event's
   own id, outside any idempotency: a redelivery rewrites the same object, and a Slack outage
   can never lose the record.
2. **Alert at most once.** Records whose severity is in ``alert_on`` go to Slack through the
   poster, which is idempotent on the event id (Powertools idempotency, DynamoDB): the record
   turns INPROGRESS before the post and COMPLETED after it, so a redelivered event finds it
   COMPLETED and posts nothing. If the post fails after its retries, Powertools deletes the
   INPROGRESS record and the outcome is FAILED: the handler then raises, Lambda retries the
   asynchronous invocation (which can post, the record being gone) and, when retries run out,
   sends the event to the function's OnFailure destination. The S3 record is already there.
3. **Announce.** A "Pipeline Event Recorded" event goes to EventBridge; failing to publish it
   is reported in the outcome and never fails the event (the record and alert are done),
   except when the event is too large for EventBridge: that can never succeed, so the handler
   fails the invocation (after every message is handled) and it ends in OnFailure.

Destination records of this very function are stored but never alerted: this function's
failures reaching its own topic would otherwise alert about failing to alert, in a loop.
"""

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from datalake_shared.event_publisher import PutOutcome
from datalake_shared.slack import WebhookNotConfiguredError
from datalake_shared.validation import describe_error
from pipeline_monitor.alerts import AlertPoster, render_alert
from pipeline_monitor.records import MonitorRecord, Service, Severity, normalize


class AlertStatus(StrEnum):
    POSTED = "posted"
    DUPLICATE = "duplicate"
    """An earlier delivery of the event posted it."""
    IN_PROGRESS_ELSEWHERE = "in_progress_elsewhere"
    """A concurrent delivery of the event is posting it."""
    NOT_NEEDED = "not_needed"
    SUPPRESSED = "suppressed"
    NOT_CONFIGURED = "not_configured"
    """The webhook secret holds no URL yet: stored, counted, not retried."""
    FAILED = "failed"


class RecordStore(Protocol):
    def put(self, record: MonitorRecord) -> str:
        """Stores the record (idempotently) and returns where."""
        ...


class RecordAnnouncer(Protocol):
    def announce(self, record: MonitorRecord, key: str, alert: AlertStatus) -> PutOutcome | None:
        """Publishes "Pipeline Event Recorded"; returns what was not published, or None."""
        ...


@dataclass(frozen=True, slots=True)
class MonitorOutcome:
    record: MonitorRecord
    key: str
    alert: AlertStatus
    alert_attempts: int = 0
    alert_error: str | None = None
    announce_error: str | None = None
    announce_too_large: bool = False
    """The announcement is over EventBridge's size limit: it can never be put."""


class PipelineMonitor:
    def __init__(
        self,
        store: RecordStore,
        poster: AlertPoster,
        announcer: RecordAnnouncer,
        alert_on: AbstractSet[Severity],
    ) -> None:
        self.store = store
        self.poster = poster
        self.announcer = announcer
        self.alert_on = frozenset(alert_on)

    def needs_alert(
        self, record: MonitorRecord, own_function_name: str | None
    ) -> AlertStatus | None:
        """None when the record must be posted, else why not."""
        if record.severity not in self.alert_on:
            return AlertStatus.NOT_NEEDED
        if (
            record.service is Service.LAMBDA
            and own_function_name
            and record.resource == own_function_name
        ):
            return AlertStatus.SUPPRESSED
        return None

    def alert(self, record: MonitorRecord) -> tuple[AlertStatus, int, str | None]:
        try:
            outcome = self.poster.post(record.event_id, render_alert(record))
        except WebhookNotConfiguredError as error:
            return AlertStatus.NOT_CONFIGURED, 0, describe_error(error)
        except Exception as error:  # any failure to alert is retried: the handler raises later
            return AlertStatus.FAILED, 0, describe_error(error)
        if outcome.posted:
            return AlertStatus.POSTED, outcome.attempts, None
        if outcome.in_progress_elsewhere:
            return AlertStatus.IN_PROGRESS_ELSEWHERE, 0, None
        return AlertStatus.DUPLICATE, 0, None

    def handle(
        self,
        message: str,
        *,
        message_id: str,
        received: datetime,
        own_function_name: str | None = None,
    ) -> MonitorOutcome:
        """Raises only when the record could not be stored (nothing was posted then)."""
        record = normalize(message, message_id=message_id, received=received)
        key = self.store.put(record)
        skipped = self.needs_alert(record, own_function_name)
        if skipped is None:
            status, attempts, error = self.alert(record)
        else:
            status, attempts, error = skipped, 0, None
        failure = self.announcer.announce(record, key, status)
        return MonitorOutcome(
            record,
            key,
            status,
            attempts,
            error,
            failure.error if failure else None,
            announce_too_large=failure is not None and failure.too_large,
        )
