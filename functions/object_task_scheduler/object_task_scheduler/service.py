"""Scheduling domain logic: which uploads get tasks, and making sure each task has its ledger
item and its trigger. Pure Python: the S3 head, the ledger and the triggers are protocols, so
the rules are tested with in-memory fakes and the AWS adapters stay small.

Every step is idempotent, so a redelivered upload event is safe: the task id is a function of
(bucket, key, origin, rule); the item is written once (a conditional put that hands back the
existing item); the trigger is ensured again unless the item says the task is done (a schedule
of the same name already existing is a success; a second direct send only repeats a message
object_rewriter handles idempotently).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from datalake_shared.object_tasks import (
    ORIGIN_METADATA,
    ObjectTask,
    ObjectTaskRule,
    TaskStatus,
    real_version_id,
    upload_origin,
)
from datalake_shared.s3_events import S3ObjectEvent
from object_task_scheduler.planning import (
    SendNow,
    Trigger,
    is_ignored_object,
    matching_rules,
    plan_trigger,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """What HeadObject says of one object version."""

    metadata: Mapping[str, str]
    etag: str
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerPut:
    created: bool
    """False when an earlier delivery already wrote the task's item."""
    status: str | None = None
    """The existing item's status when not created (None if the item did not say)."""


class ObjectHeads(Protocol):
    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectHead | None:
        """The object (that version, when given); None when it no longer exists."""
        ...


class TaskLedger(Protocol):
    def put_if_absent(self, task: ObjectTask, now: datetime) -> LedgerPut: ...


class TaskTriggers(Protocol):
    def ensure(self, task: ObjectTask, trigger: Trigger) -> bool:
        """Sends or schedules the task's message; False when its schedule already existed."""
        ...


class UploadOutcome(StrEnum):
    TASKS = "tasks"
    """At least one rule matched: see the tasks."""
    NOT_CREATED = "not_created"
    """An S3 event of another type (deleted, restored...): nothing landed."""
    IGNORED = "ignored"
    """A folder marker or an empty object: no values to rewrite."""
    NO_RULE = "no_rule"
    """No rule's prefix matches the key."""
    MISSING = "missing"
    """The object (version) is gone since the event: nothing left to rewrite."""
    REPLACED = "replaced"
    """Unversioned bucket: the key now holds another object, which has its own event."""
    REWRITE = "rewrite"
    """Written by object_rewriter (it carries the origin mark): never scheduled again."""


class TaskStep(StrEnum):
    SCHEDULED = "scheduled"
    """New task, one-time schedule created."""
    SENT_NOW = "sent_now"
    """New task due within 15 minutes, its message sent to the task queue with a delay."""
    ALREADY_SCHEDULED = "already_scheduled"
    """A redelivery: the item was there, still scheduled; the trigger was ensured again."""
    ALREADY_DONE = "already_done"
    """A redelivery after the task ran: nothing to do."""


@dataclass(frozen=True, slots=True)
class TaskResult:
    task: ObjectTask
    step: TaskStep
    trigger: Trigger | None = None
    trigger_created: bool = False
    """A message was sent, or a schedule created (not found existing)."""
    existing_status: str | None = None


@dataclass(frozen=True, slots=True)
class UploadResult:
    outcome: UploadOutcome
    bucket: str
    key: str
    tasks: tuple[TaskResult, ...] = ()
    note: str = ""


def _screened_out(event: S3ObjectEvent, rules: tuple[ObjectTaskRule, ...]) -> UploadResult | None:
    """Why an event gets no tasks without looking at its object (None when it may get some)."""
    bucket, obj = event.detail.bucket.name, event.detail.object
    if not event.created:
        return UploadResult(
            UploadOutcome.NOT_CREATED, bucket, obj.key, note=event.not_created_reason
        )
    if is_ignored_object(obj.key, obj.size):
        return UploadResult(UploadOutcome.IGNORED, bucket, obj.key, note="empty or a folder")
    if not rules:
        return UploadResult(UploadOutcome.NO_RULE, bucket, obj.key, note="no rule matches")
    return None


class ObjectTaskScheduler:
    """Turns one "Object Created" event into its tasks, one per matching rule."""

    def __init__(
        self,
        rules: Iterable[ObjectTaskRule],
        heads: ObjectHeads,
        ledger: TaskLedger,
        triggers: TaskTriggers,
        clock: Clock = utc_now,
    ) -> None:
        self.rules = tuple(rules)
        self.heads = heads
        self.ledger = ledger
        self.triggers = triggers
        self.clock = clock

    def schedule(self, event: S3ObjectEvent) -> UploadResult:
        bucket, obj = event.detail.bucket.name, event.detail.object
        rules = matching_rules(self.rules, obj.key)
        skipped = _screened_out(event, rules)
        if skipped is not None:
            return skipped

        head = self.heads.head(bucket, obj.key, obj.version_id)
        if head is None:
            return UploadResult(UploadOutcome.MISSING, bucket, obj.key, note="deleted since")
        if ORIGIN_METADATA in head.metadata:
            # The recursion guard (the post's PROCESSED tag): object_rewriter wrote this one.
            return UploadResult(UploadOutcome.REWRITE, bucket, obj.key, note="a rewrite")
        event_etag = (obj.etag or "").strip('"')
        head_etag = head.etag.strip('"')
        is_version = real_version_id(obj.version_id) is not None
        if not is_version and event_etag and event_etag != head_etag:
            return UploadResult(
                UploadOutcome.REPLACED, bucket, obj.key, note="overwritten since (unversioned)"
            )

        origin = upload_origin(obj.version_id, event_etag or head_etag)
        # An ETag origin is never deleted by the rewriter: only a version id names a version.
        now = self.clock()
        tasks = tuple(
            self._ensure(
                ObjectTask.for_upload(
                    bucket, obj.key, origin, rule, event.time, origin_is_version=is_version
                ),
                now,
            )
            for rule in rules
        )
        return UploadResult(UploadOutcome.TASKS, bucket, obj.key, tasks=tasks)

    def _ensure(self, task: ObjectTask, now: datetime) -> TaskResult:
        """The item first, then the trigger: a trigger that fails leaves the item, and the
        redelivery (or, at worst, the item's TTL fallback) still runs the task."""
        put = self.ledger.put_if_absent(task, now)
        if not put.created and put.status == TaskStatus.DONE:
            return TaskResult(task, TaskStep.ALREADY_DONE, existing_status=put.status)
        trigger = plan_trigger(task, now)
        created = self.triggers.ensure(task, trigger)
        if not put.created:
            step = TaskStep.ALREADY_SCHEDULED
        elif isinstance(trigger, SendNow):
            step = TaskStep.SENT_NOW
        else:
            step = TaskStep.SCHEDULED
        return TaskResult(task, step, trigger, created, put.status)
