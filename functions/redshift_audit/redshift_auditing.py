"""What the auditor does with one log event: find its sensitive statements, store the audit
records, post one Slack alert, announce it. Pure logic over protocols.

Order and guarantees, per log event:

1. **Store first.** The audit records (one JSON line per sensitive statement) go to S3 under a
   key made from the log event's id, so a redelivered payload rewrites the same object.
2. **Alert at most once.** One Slack message per log event, idempotent on the log group and
   log event id (Powertools idempotency, same table as the pipeline monitor). A failed post
   leaves no idempotency record behind; the handler raises after the whole payload, CloudWatch
   Logs' asynchronous invocation is retried (stored records rewritten, posted alerts skipped)
   and then handed to the OnFailure destination.
3. **Announce** "Sensitive Query Detected" on EventBridge; a failure is reported, never fatal.
"""

import hashlib
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from redshift_audit_log import UserActivity, parse_user_activity
from redshift_audit_sql import Statement, classify_sql

from datalake_shared.slack import AlertPosting, WebhookNotConfiguredError

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
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EventOutcome:
    log_event_id: str
    activities: int
    """User-activity records found in the message (0: not a user-activity line)."""
    statements: int
    records: tuple[AuditRecord, ...] = ()
    key: str | None = None
    alert: AlertStatus = AlertStatus.NOT_NEEDED
    alert_error: str | None = None
    announce_error: str | None = None
    ignored_user: bool = False
    unparsed: int = field(default=0)
    """Sensitive statements classified without a full parse (keywords or first word)."""


class AuditStore(Protocol):
    def put(self, log_event_id: str, date: str, records: Sequence[AuditRecord]) -> str: ...


# ``IdempotentSlackPoster`` (behind ``LazySlackPoster``) in Lambda.
AlertPoster = AlertPosting


class AuditAnnouncer(Protocol):
    def announce(self, source: LogSource, records: Sequence[AuditRecord], key: str) -> str | None:
        """Publishes "Sensitive Query Detected"; returns why not, or None."""
        ...


class Renderer(Protocol):
    def __call__(self, source: LogSource, records: Sequence[AuditRecord]) -> dict[str, Any]: ...


def audit_id(log_group: str, log_event_id: str, index: int) -> str:
    """Deterministic id of one statement of one log event."""
    digest = hashlib.sha256(f"{log_group}|{log_event_id}|{index}".encode()).hexdigest()
    return digest[:32]


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


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
        ignore_users: AbstractSet[str] = frozenset(),
    ) -> None:
        self.store = store
        self.poster = poster
        self.announcer = announcer
        self.render = render
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

    def alert(
        self, source: LogSource, event: LogEvent, records: Sequence[AuditRecord]
    ) -> tuple[AlertStatus, str | None]:
        try:
            outcome = self.poster.post(
                f"{source.log_group}|{event.id}", self.render(source, records)
            )
        except WebhookNotConfiguredError as error:
            return AlertStatus.NOT_CONFIGURED, describe_error(error)
        except Exception as error:  # any failure to alert is retried: the handler raises later
            return AlertStatus.FAILED, describe_error(error)
        if outcome.posted:
            return AlertStatus.POSTED, None
        if outcome.in_progress_elsewhere:
            return AlertStatus.IN_PROGRESS_ELSEWHERE, None
        return AlertStatus.DUPLICATE, None

    def audit(self, source: LogSource, event: LogEvent) -> EventOutcome:
        """Raises only when the records could not be stored (nothing was posted then)."""
        records, activities, statements, ignored = self.sensitive_records(source, event)
        unparsed = sum(record.parse_status != "parsed" for record in records)
        if not records:
            return EventOutcome(event.id, activities, statements, ignored_user=ignored)
        date = records[0].query_time[:10]
        key = self.store.put(event.id, date, records)
        status, error = self.alert(source, event, records)
        announce_error = self.announcer.announce(source, records, key)
        return EventOutcome(
            event.id,
            activities,
            statements,
            tuple(records),
            key,
            status,
            error,
            announce_error,
            ignored,
            unparsed,
        )
