"""The TTL fallback: a task whose item expired while still ``scheduled`` (its schedule was lost or
never delivered, or its messages kept failing until they were dead-lettered) is requeued, not run
here. The item is written again as ``scheduled`` (expiring a grace period later, its
``fallbacks`` counted) and a task message is sent, so the task runs on the queue path, whose
failures are recorded on the item, retried, and dead-lettered behind an alarm.

Requeuing is idempotent: a retried stream record writes the same item again and sends another
message, which finds the task done or runs it (running is idempotent). A task finished
meanwhile wins: the conditional put refuses to overwrite a ``done`` item, and nothing is sent.
After MAX_FALLBACKS requeues the task is given up: its item is written ``failed`` (kept for
audit like a done one) for an operator to look at.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from datalake_shared.object_tasks import (
    DEFAULT_DONE_RETENTION,
    DEFAULT_FALLBACK_GRACE,
    MAX_FALLBACKS,
    ObjectTask,
)


@dataclass(frozen=True, slots=True)
class ExpiredTask:
    """A still-scheduled item the TTL removed, as the stream record's OldImage holds it."""

    task: ObjectTask
    fallbacks: int = 0
    """How many times the fallback requeued the task before."""
    attempts: int = 0
    last_error: str | None = None
    scheduled_at: str | None = None


class FallbackLedger(Protocol):
    def requeue(self, expired: ExpiredTask, now: datetime, expires_at: datetime) -> bool:
        """Writes the task's item again as scheduled, expiring at ``expires_at``, its fallbacks
        one more; False (nothing written) when the item is done."""
        ...

    def abandon(self, expired: ExpiredTask, now: datetime, expires_at: datetime) -> bool:
        """Writes the task's item as failed (no outcome; the last error kept), expiring at
        ``expires_at``; False (nothing written) when the item is done."""
        ...


class TaskQueue(Protocol):
    def send(self, task_id: str) -> None:
        """Sends the task's message to the task queue."""
        ...


class FallbackOutcome(StrEnum):
    REQUEUED = "requeued"
    ABANDONED = "abandoned"
    ALREADY_DONE = "already_done"
    """The task finished since its item expired: nothing written or sent."""


@dataclass(frozen=True, slots=True)
class FallbackResult:
    outcome: FallbackOutcome
    task: ObjectTask
    fallbacks: int
    """The item's count after this fallback."""


def _now() -> datetime:
    return datetime.now(UTC)


class FallbackRequeuer:
    def __init__(
        self,
        ledger: FallbackLedger,
        queue: TaskQueue,
        *,
        clock: Callable[[], datetime] = _now,
        fallback_grace: timedelta = DEFAULT_FALLBACK_GRACE,
        done_retention: timedelta = DEFAULT_DONE_RETENTION,
        max_fallbacks: int = MAX_FALLBACKS,
    ) -> None:
        self.ledger = ledger
        self.queue = queue
        self.clock = clock
        self.fallback_grace = fallback_grace
        self.done_retention = done_retention
        self.max_fallbacks = max_fallbacks

    def handle(self, expired: ExpiredTask) -> FallbackResult:
        """The item first, then the message: a send that fails fails the stream record, whose
        retry writes the same item and sends again."""
        now = self.clock()
        task = expired.task
        if expired.fallbacks >= self.max_fallbacks:
            if not self.ledger.abandon(expired, now, now + self.done_retention):
                return FallbackResult(FallbackOutcome.ALREADY_DONE, task, expired.fallbacks)
            return FallbackResult(FallbackOutcome.ABANDONED, task, expired.fallbacks)
        if not self.ledger.requeue(expired, now, now + self.fallback_grace):
            return FallbackResult(FallbackOutcome.ALREADY_DONE, task, expired.fallbacks)
        self.queue.send(task.task_id)
        return FallbackResult(FallbackOutcome.REQUEUED, task, expired.fallbacks + 1)
