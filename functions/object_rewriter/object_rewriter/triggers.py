"""What starts a task: a task message from the task queue (a schedule or a delayed send), or the
TTL removal of a still-scheduled item from ObjectTaskTable's stream (the fallback)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from datalake_shared.object_tasks import STATUS, ObjectTask, TaskMessage, TaskStatus, task_from_item

# Who deletes an expired item: a TTL removal's stream record names this service principal.
TTL_IDENTITY: Final = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


class TaskMessageSqsRecord(SqsRecordModel):
    """An SQS message whose body is a TaskMessage ({"task_id": "ot-…"})."""

    body: Json[TaskMessage]


@dataclass(frozen=True, slots=True)
class FallbackTrigger:
    """A stream record's task, or why the record triggers nothing."""

    task: ObjectTask | None
    skipped: str = ""


def _is_ttl_removal(record: Mapping[str, Any]) -> bool:
    identity = record.get("userIdentity")
    return isinstance(identity, Mapping) and all(
        identity.get(name) == value for name, value in TTL_IDENTITY.items()
    )


def fallback_trigger(record: Mapping[str, Any]) -> FallbackTrigger:
    """The task a TTL removal of a ``scheduled`` item runs. The event source mapping's filter
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
    status = image.get(STATUS, {}).get("S") if isinstance(image.get(STATUS), Mapping) else None
    if status != TaskStatus.SCHEDULED.value:
        return FallbackTrigger(None, f"the item's status was {status!r}, not 'scheduled'")
    return FallbackTrigger(task_from_item(dict(image)))
