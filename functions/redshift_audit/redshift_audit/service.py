"""What the auditor does with one subscription batch: find each log event's sensitive
statements, store the audit records, announce them, then post ONE Slack summary for the whole
batch. Pure logic over protocols.

Order and guarantees:

1. **Store first**, per log event: the audit records (one JSON line per sensitive statement)
   go to S3 under a key made from the log event's id, so a redelivered payload rewrites the
   same object. Then "Sensitive Query Detected" is announced on EventBridge for that log event
   (in as many entries as its statements need, see redshift_audit.announcer); a failure to
   announce is reported and does not stop the batch. An announcement too large for EventBridge
   (sending it again can never succeed) also fails the invocation once the batch is stored and
   alerted, so it ends in the OnFailure destination instead of only in the logs.
2. **One alert per batch, at most once.** After every log event of the batch is stored, one
   Block Kit message summarises the batch's sensitive statements, idempotent on the log group
   and the batch's sorted log event ids (Powertools idempotency, same table as the pipeline
   monitor): a redelivered batch finds the record and posts nothing. A burst of DDL (a
   migration) is one message, not one per log event, so the post fits in the invocation.
3. **Never start a post that cannot finish.** The post may retry for the webhook's whole
   budget (429 Retry-After, 5xx); when the invocation has less time left than that budget plus
   a margin, the post is not started (``AlertStatus.DEFERRED``): the records are stored, the
   handler raises, Lambda's asynchronous retry posts. A failed post leaves no idempotency record
   behind, so the retry posts it; after the retries the payload goes to the OnFailure
   destination.
"""

import hashlib
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

from datalake_shared.event_publisher import PutOutcome
from datalake_shared.slack import AlertPosting, RetryPolicy, WebhookNotConfiguredError
from datalake_shared.validation import describe_error
from redshift_audit.models import UserActivity, parse_user_activity
from redshift_audit.sql import Statement, classify_sql

MAX_SQL_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class LogSource:
    """Where a payload's log events come from."""

    account: str
    log_group: str
    log_stream: str
    cluster: str


@dataclass(frozen=True, slots=True)
class LogEvent:
    id: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One sensitive statement: a row of the audit table."""

    audit_id: str
    log_event_id: str
    statement_index: int
    cluster: str
    log_group: str
    log_stream: str
    account: str
    database: str | None
    user: str | None
    pid: str | None
    userid: str | None
    xid: str | None
    query_time: str
    category: str
    statement_type: str
    object_name: str | None
    parse_status: str
    sql: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class AlertStatus(StrEnum):
    POSTED = "posted"
    DUPLICATE = "duplicate"
    IN_PROGRESS_ELSEWHERE = "in_progress_elsewhere"
    NOT_NEEDED = "not_needed"
    NOT_CONFIGURED = "not_configured"
    """The webhook secret holds no URL yet: stored, counted, not retried."""
    DEFERRED = "deferred"
    """Too little of the invocation left to post within the webhook's budget: not started."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EventOutcome:
    log_event_id: str
    activities: int
    """User-activity records found in the message (0: not a user-activity line)."""
    statements: int
    records: tuple[AuditRecord, ...] = ()
    key: str | None = None
    announce_error: str | None = None
    ignored_user: bool = False
    unparsed: int = field(default=0)
    """Sensitive statements classified without a full parse (keywords or first word)."""
    announce_too_large: bool = False
    """Part of the announcement is over EventBridge's size limit: it can never be put."""


@dataclass(frozen=True, slots=True)
class BatchAlert:
    """The one Slack message of a subscription batch."""

    alert_id: str | None
    """None when the batch had nothing sensitive (nothing to post)."""
    status: AlertStatus
    statements: int = 0
    log_events: int = 0
    """Log events with sensitive statements."""
    error: str | None = None
    attempts: int = 0

    @property
    def retry_needed(self) -> bool:
        return self.status in (AlertStatus.FAILED, AlertStatus.DEFERRED)


class AuditStore(Protocol):
    def put(self, log_event_id: str, date: str, records: Sequence[AuditRecord]) -> str: ...


# ``IdempotentSlackPoster`` (behind ``LazySlackPoster``) in Lambda.
AlertPoster = AlertPosting


class AuditAnnouncer(Protocol):
    def announce(
        self, source: LogSource, records: Sequence[AuditRecord], key: str
    ) -> PutOutcome | None:
        """Publishes "Sensitive Query Detected"; returns what was not put, or None."""
        ...


class Renderer(Protocol):
    def __call__(self, source: LogSource, records: Sequence[AuditRecord]) -> dict[str, Any]: ...


def audit_id(log_group: str, log_event_id: str, index: int) -> str:
    """Deterministic id of one statement of one log event."""
    digest = hashlib.sha256(f"{log_group}|{log_event_id}|{index}".encode()).hexdigest()
    return digest[:32]


def batch_alert_id(log_group: str, log_event_ids: Iterable[str]) -> str:
    """Idempotency id of a batch's message: its log group and sorted log event ids, hashed, so a
    redelivered batch (same ids, any order) maps to the same message."""
    joined = "\n".join(sorted(set(log_event_ids)))
    return f"{log_group}|batch:{hashlib.sha256(joined.encode()).hexdigest()}"


def time_needed_to_post(policy: RetryPolicy, margin_s: float) -> float:
    """Seconds a post may take in the worst case: its retry budget (waits included), the last
    request's own timeout, and a margin (secret, idempotency record, returning)."""
    return policy.max_total_s + policy.timeout_s + margin_s


def _records(
    source: LogSource,
    event: LogEvent,
    activity: UserActivity,
    statements: list[Statement],
    start: int,
) -> list[AuditRecord]:
    return [
        AuditRecord(
            audit_id=audit_id(source.log_group, event.id, start + statement.index),
            log_event_id=event.id,
            statement_index=start + statement.index,
            cluster=source.cluster,
            log_group=source.log_group,
            log_stream=source.log_stream,
            account=source.account,
            database=activity.database,
            user=activity.user,
            pid=activity.pid,
            userid=activity.userid,
            xid=activity.xid,
            query_time=activity.query_time,
            category=str(statement.category),
            statement_type=statement.statement_type,
            object_name=statement.object_name,
            parse_status=str(statement.parse_status),
            sql=statement.sql[:MAX_SQL_CHARS],
        )
        for statement in statements
        if statement.sensitive
    ]


class RedshiftAuditor:
    def __init__(
        self,
        store: AuditStore,
        poster: AlertPoster,
        announcer: AuditAnnouncer,
        render: Renderer,
        *,
        post_time_needed_s: float,
        ignore_users: AbstractSet[str] = frozenset(),
    ) -> None:
        """``post_time_needed_s``: the invocation time a post needs to be started
        (``time_needed_to_post`` of the webhook's retry policy)."""
        self.store = store
        self.poster = poster
        self.announcer = announcer
        self.render = render
        self.post_time_needed_s = post_time_needed_s
        self.ignore_users = frozenset(ignore_users)

    def sensitive_records(
        self, source: LogSource, event: LogEvent
    ) -> tuple[list[AuditRecord], int, int, bool]:
        """(records, activities, statements, ignored) of one log event."""
        activities = parse_user_activity(event.message)
        records: list[AuditRecord] = []
        statements = 0
        ignored = False
        for activity in activities:
            if activity.user in self.ignore_users:
                ignored = True
                continue
            classified = classify_sql(activity.sql)
            records += _records(source, event, activity, classified, statements)
            statements += len(classified)
        return records, len(activities), statements, ignored

    def audit(self, source: LogSource, event: LogEvent) -> EventOutcome:
        """Stores and announces one log event's sensitive statements; posts nothing (see
        ``alert``). Raises only when the records could not be stored."""
        records, activities, statements, ignored = self.sensitive_records(source, event)
        unparsed = sum(record.parse_status != "parsed" for record in records)
        if not records:
            return EventOutcome(event.id, activities, statements, ignored_user=ignored)
        date = records[0].query_time[:10]
        key = self.store.put(event.id, date, records)
        failure = self.announcer.announce(source, records, key)
        return EventOutcome(
            event.id,
            activities,
            statements,
            tuple(records),
            key,
            failure.error if failure else None,
            ignored,
            unparsed,
            announce_too_large=failure is not None and failure.too_large,
        )

    def alert(
        self,
        source: LogSource,
        log_event_ids: Sequence[str],
        records: Sequence[AuditRecord],
        remaining_s: float,
    ) -> BatchAlert:
        """Posts the batch's one summary (``log_event_ids``: every id of the batch, the
        idempotency key) unless ``remaining_s`` of the invocation cannot hold the post."""
        if not records:
            return BatchAlert(None, AlertStatus.NOT_NEEDED)
        alert_id = batch_alert_id(source.log_group, log_event_ids)
        summary = BatchAlert(
            alert_id,
            AlertStatus.NOT_NEEDED,
            statements=len(records),
            log_events=len({record.log_event_id for record in records}),
        )
        if remaining_s < self.post_time_needed_s:
            return replace(
                summary,
                status=AlertStatus.DEFERRED,
                error=(
                    f"{remaining_s:.1f} s of the invocation left, a Slack post may need "
                    f"{self.post_time_needed_s:g} s: not started"
                ),
            )
        try:
            outcome = self.poster.post(alert_id, self.render(source, records))
        except WebhookNotConfiguredError as error:
            return replace(summary, status=AlertStatus.NOT_CONFIGURED, error=describe_error(error))
        except Exception as error:  # any failure to alert is retried: the handler raises
            return replace(summary, status=AlertStatus.FAILED, error=describe_error(error))
        if outcome.posted:
            status = AlertStatus.POSTED
        elif outcome.in_progress_elsewhere:
            status = AlertStatus.IN_PROGRESS_ELSEWHERE
        else:
            status = AlertStatus.DUPLICATE
        return replace(summary, status=status, attempts=outcome.attempts)
