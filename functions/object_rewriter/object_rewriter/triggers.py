"""What starts a task: a task message from the task queue (a schedule, a delayed send, or a
requeue by the fallback), or the TTL removal of a still-scheduled item from ObjectTaskTable's
stream (the fallback, which requeues it)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from datalake_shared.object_tasks import (
    ATTEMPTS,
    FALLBACKS,
    LAST_ERROR,
    SCHEDULED_AT,
    TaskMessage,
    TaskStatus,
    item_status,
    item_text,
    task_from_item,
)
from object_rewriter.fallback import ExpiredTask

# Who deletes an expired item: a TTL removal's stream record names this service principal.
TTL_IDENTITY: Final = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class TaskMessageSqsRecord(SqsRecordModel):
    """An SQS message whose body is a TaskMessage ({"task_id": "ot-…"})."""

    body: Json[TaskMessage]


@dataclass(frozen=True, slots=True)
class FallbackTrigger:
    """A stream record's expired task, or why the record triggers nothing."""

    expired: ExpiredTask | None
    skipped: str = ""


def _is_ttl_removal(record: Mapping[str, Any]) -> bool:
    identity = record.get("userIdentity")
    return isinstance(identity, Mapping) and all(
        identity.get(name) == value for name, value in TTL_IDENTITY.items()
    )


def _count(image: Mapping[str, Any], name: str) -> int:
    value = image.get(name)
    number = value.get("N") if isinstance(value, Mapping) else None
    try:
        return max(int(number), 0) if isinstance(number, str) else 0
    except ValueError:
        return 0


def expired_task(image: Mapping[str, Any]) -> ExpiredTask:
    """The task an item holds, with its fallback and attempt counts; ValueError (pydantic's
    ValidationError included) when its task cannot be read."""
    return ExpiredTask(
        task=task_from_item(dict(image)),
        fallbacks=_count(image, FALLBACKS),
        attempts=_count(image, ATTEMPTS),
        last_error=item_text(image, LAST_ERROR),
        scheduled_at=item_text(image, SCHEDULED_AT),
    )


def fallback_trigger(record: Mapping[str, Any]) -> FallbackTrigger:
    """The task a TTL removal of a ``scheduled`` item requeues. The event source mapping's filter
    passes only those; anything else (a user's delete, an update, a done item expiring) is
    skipped here as well. A scheduled item whose task cannot be read raises ValueError."""
    if record.get("eventName") != "REMOVE":
        return FallbackTrigger(None, f"a {record.get('eventName')!s} record, not a REMOVE")
    if not _is_ttl_removal(record):
        return FallbackTrigger(None, "removed by a caller, not by the TTL")
    stream = record.get("dynamodb")
    image = stream.get("OldImage") if isinstance(stream, Mapping) else None
    if not isinstance(image, Mapping):
        return FallbackTrigger(None, "the record has no OldImage (stream view type?)")
    status = item_status(image)
    if status != TaskStatus.SCHEDULED.value:
        return FallbackTrigger(None, f"the item's status was {status!r}, not 'scheduled'")
    return FallbackTrigger(expired_task(image))
