"""Pure planning: which rules an upload gets tasks from, and how each task is triggered (a
delayed message when it is due within DIRECT_SEND_WITHIN, else a one-time schedule)."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from datalake_shared.object_tasks import DIRECT_SEND_WITHIN, ObjectTask, ObjectTaskRule

# SQS delays a message by at most 15 minutes.
MAX_DELAY_SECONDS: Final = 900
# EventBridge Scheduler's limit on a schedule's description.
MAX_DESCRIPTION_LENGTH: Final = 512
# at(yyyy-mm-ddThh:mm:ss), in ScheduleExpressionTimezone.
AT_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"


def is_ignored_object(key: str, size: int) -> bool:
    """Folder markers ("dataset/2026/") and zero-byte objects hold no values to rewrite."""
    return key.endswith("/") or size == 0


def matching_rules(rules: Iterable[ObjectTaskRule], key: str) -> tuple[ObjectTaskRule, ...]:
    """Every rule whose prefix the key starts with, in configuration order."""
    return tuple(rule for rule in rules if rule.matches(key))


@dataclass(frozen=True, slots=True)
class SendNow:
    """Send the task's message to the task queue, delayed by ``delay_seconds`` (0..900)."""

    delay_seconds: int


@dataclass(frozen=True, slots=True)
class ScheduleAt:
    """Create a one-time schedule that delivers the task's message ``at(expression)``."""

    expression: str


Trigger = SendNow | ScheduleAt


def delay_seconds(remaining: timedelta) -> int:
    """Whole seconds of an SQS delay that is never early (rounded up), within 0..900."""
    seconds = math.ceil(remaining.total_seconds())
    return min(max(seconds, 0), MAX_DELAY_SECONDS)


def ceil_to_second(value: datetime) -> datetime:
    """``value`` in UTC, rounded up to the whole second (a schedule must not fire early)."""
    value = value.astimezone(UTC)
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value


def schedule_expression(due_at: datetime) -> str:
    """The one-time schedule expression for ``due_at``, read in UTC."""
    return f"at({ceil_to_second(due_at):{AT_FORMAT}})"


def plan_trigger(task: ObjectTask, now: datetime) -> Trigger:
    """Due within DIRECT_SEND_WITHIN (or overdue): a delayed message, which SQS can still hold;
    later: a schedule."""
    remaining = task.due_at - now
    if remaining <= DIRECT_SEND_WITHIN:
        return SendNow(delay_seconds(remaining))
    return ScheduleAt(schedule_expression(task.due_at))


def schedule_description(task: ObjectTask) -> str:
    """What a schedule is for, as the console lists it: the rule and the object."""
    text = f"{task.rule.name}: s3://{task.bucket}/{task.key}"
    return text[:MAX_DESCRIPTION_LENGTH]
