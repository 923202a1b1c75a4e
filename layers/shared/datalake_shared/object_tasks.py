"""Scheduled object tasks, defined once: the rules (what to do to which objects, and when), the
task one upload gets per matching rule, its item in ObjectTaskTable, and the marks a rewritten
object carries.

object_task_scheduler writes tasks (one EventBridge Scheduler one-time schedule per task, and
the item as the ledger); object_rewriter runs them. A task embeds its rule as it was when the
object landed, so renaming or editing a rule later never changes what a pending task does.

The DynamoDB TTL of a still-scheduled item is the fallback trigger: it expires a grace period
after the task was due, and the stream's TTL removal of an item still ``scheduled`` requeues the
task (a schedule that was lost or never delivered, or a task whose messages kept failing): the
item is written again as ``scheduled`` (expiring a grace period later, its ``fallbacks`` counted)
and a task message is sent, so the task runs on the queue path with its DLQ. After
MAX_FALLBACKS requeues the item is written ``failed`` instead. A finished (or failed) task's item
is kept for audit and expires later; its TTL removal is filtered out before it reaches the
function.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from datalake_shared.validation import describe_validation_error

# --- rules ------------------------------------------------------------------------------------

RULE_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,39}$"
MAX_AFTER_DAYS: Final = 3650
# Shorter delays than this are sent to the task queue with a delay, not scheduled (SQS delays
# a message by at most 15 minutes; EventBridge Scheduler's precision is one minute).
DIRECT_SEND_WITHIN: Final = timedelta(minutes=15)

Action = Literal["remove", "mask"]


def _fields_are_distinct(fields: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(fields)) != len(fields):
        raise ValueError("fields must be distinct")
    return fields


class ObjectTaskRule(BaseModel):
    """One rule of OBJECT_TASK_RULES: objects whose key starts with ``prefix`` get ``action``
    on ``fields`` (JSON Lines: top-level or dotted paths; CSV: header names) ``after_days``
    after they landed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=RULE_NAME_PATTERN)
    prefix: str = Field(min_length=1, max_length=1024)
    after_days: float = Field(gt=0, le=MAX_AFTER_DAYS)
    action: Action
    fields: Annotated[
        tuple[Annotated[str, Field(min_length=1, max_length=255)], ...],
        Field(min_length=1, max_length=100),
        AfterValidator(_fields_are_distinct),
    ]
    # "mask" replaces each value with this text; "remove" ignores it.
    mask_with: str = Field(default="", max_length=255)
    # The version the rewrite replaced is deleted (the point of removing sensitive values) unless
    # this is set; only a versioned bucket has one to keep.
    keep_replaced_version: bool = False

    @property
    def delay(self) -> timedelta:
        return timedelta(days=self.after_days)

    def matches(self, key: str) -> bool:
        return key.startswith(self.prefix)


class RulesError(ValueError):
    """OBJECT_TASK_RULES is not a JSON list of valid rules with distinct names."""


def parse_rules(text: str) -> tuple[ObjectTaskRule, ...]:
    try:
        raw = json.loads(text or "[]")
    except json.JSONDecodeError as error:
        raise RulesError(f"OBJECT_TASK_RULES is not JSON ({error.msg})") from error
    if not isinstance(raw, list):
        raise RulesError("OBJECT_TASK_RULES must be a JSON list of rules")
    rules: list[ObjectTaskRule] = []
    for index, entry in enumerate(raw):
        try:
            rules.append(ObjectTaskRule.model_validate(entry))
        except ValidationError as error:
            raise RulesError(f"rule {index}: {describe_validation_error(error)}") from error
    names = [rule.name for rule in rules]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise RulesError(f"rule names must be distinct (repeated: {', '.join(repeated)})")
    return tuple(rules)


# --- tasks ------------------------------------------------------------------------------------

TASK_ID_PREFIX: Final = "ot-"
# A schedule name is at most 64 of [0-9a-zA-Z-_.]: the task id is the schedule's name.
TASK_ID_LENGTH: Final = len(TASK_ID_PREFIX) + 48


def task_id(bucket: str, key: str, origin: str, rule_name: str) -> str:
    """Deterministic per (object upload, rule): a redelivered upload event yields the same
    task, hence the same item and schedule name."""
    digest = hashlib.sha256(f"{bucket}\n{key}\n{origin}\n{rule_name}".encode()).hexdigest()
    return f"{TASK_ID_PREFIX}{digest[:48]}"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone")
    return value.astimezone(UTC)


class ObjectTask(BaseModel):
    """What one upload must have done to it by one rule, and when: the ``task`` of its item."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str = Field(pattern=r"^ot-[0-9a-f]{48}$")
    bucket: str = Field(min_length=3, max_length=63)
    key: str = Field(min_length=1, max_length=1024)
    # The upload this task belongs to: its version id, or its ETag in an unversioned bucket.
    origin: str = Field(min_length=1)
    rule: ObjectTaskRule
    due_at: Annotated[datetime, AfterValidator(_utc)]
    # Whether ``origin`` is a version id (a versioned bucket): only then may the rewriter delete
    # it (a superseded or deleted upload's noncurrent version). Never an ETag.
    origin_is_version: bool = True

    @classmethod
    def for_upload(
        cls,
        bucket: str,
        key: str,
        origin: str,
        rule: ObjectTaskRule,
        landed_at: datetime,
        *,
        origin_is_version: bool = True,
    ) -> "ObjectTask":
        return cls(
            task_id=task_id(bucket, key, origin, rule.name),
            bucket=bucket,
            key=key,
            origin=origin,
            rule=rule,
            due_at=_utc(landed_at) + rule.delay,
            origin_is_version=origin_is_version,
        )

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> "ObjectTask":
        return cls.model_validate_json(text)


class TaskMessage(BaseModel):
    """What a schedule (or a direct send) delivers to the task queue: the task's id only. The
    task itself is read from its item (a schedule's Input is limited to 8,192 characters, and
    a key and a rule together can be longer)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str = Field(pattern=r"^ot-[0-9a-f]{48}$")

    def body(self) -> str:
        return self.model_dump_json()


# --- the ObjectTaskTable item -----------------------------------------------------------------

TASK_ID: Final = "task_id"  # partition key
STATUS: Final = "status"
TASK: Final = "task"  # the ObjectTask as JSON text
BUCKET: Final = "bucket"
KEY: Final = "key"
RULE: Final = "rule"
DUE_AT: Final = "due_at"  # epoch seconds
EXPIRES_AT: Final = "expires_at"  # the table's TTL attribute, epoch seconds
OUTCOME: Final = "outcome"
LAST_ERROR: Final = "last_error"
ATTEMPTS: Final = "attempts"
SCHEDULED_AT: Final = "scheduled_at"  # ISO UTC
FINISHED_AT: Final = "finished_at"  # ISO UTC
FALLBACKS: Final = "fallbacks"  # how many times the TTL fallback requeued the task

# A task the TTL fallback found still scheduled this many times is given up (status failed).
MAX_FALLBACKS: Final = 3


class TaskStatus(StrEnum):
    SCHEDULED = "scheduled"  # the TTL fallback requeues an item expiring in this status
    DONE = "done"
    FAILED = "failed"  # given up after MAX_FALLBACKS requeues; no outcome, last_error kept


class TaskOutcome(StrEnum):
    """How a task ended (the item's ``outcome``)."""

    APPLIED = "applied"  # the object was rewritten
    ALREADY_APPLIED = "already_applied"  # a redelivery: the object carries this rule's mark
    SUPERSEDED = "superseded"  # a newer upload replaced the object; it has its own tasks
    OBJECT_MISSING = "object_missing"  # deleted before the task ran: nothing left to change


# The fallback fires at least this long after the task was due (DynamoDB deletes expired items
# "within a few days", often minutes): the schedule had a day to deliver.
DEFAULT_FALLBACK_GRACE: Final = timedelta(hours=24)
# A finished task's item stays this long for audit.
DEFAULT_DONE_RETENTION: Final = timedelta(days=30)


def epoch_seconds(value: datetime) -> int:
    return int(_utc(value).timestamp())


def scheduled_item(
    task: ObjectTask, now: datetime, fallback_grace: timedelta = DEFAULT_FALLBACK_GRACE
) -> dict[str, Any]:
    """The item a newly scheduled task is written as (DynamoDB attribute values)."""
    return {
        TASK_ID: {"S": task.task_id},
        STATUS: {"S": TaskStatus.SCHEDULED.value},
        TASK: {"S": task.to_json()},
        BUCKET: {"S": task.bucket},
        KEY: {"S": task.key},
        RULE: {"S": task.rule.name},
        DUE_AT: {"N": str(epoch_seconds(task.due_at))},
        EXPIRES_AT: {"N": str(epoch_seconds(task.due_at + fallback_grace))},
        SCHEDULED_AT: {"S": iso_utc(now)},
    }


def item_text(item: object, name: str) -> str | None:
    """The string attribute ``name`` of an item (GetItem's, a stream image, a failed put's old
    item); None when it has none."""
    if not isinstance(item, Mapping):
        return None
    value = item.get(name)
    text = value.get("S") if isinstance(value, Mapping) else None
    return text if isinstance(text, str) else None


def item_status(item: object) -> str | None:
    """The ``status`` of an item; None when it has none."""
    return item_text(item, STATUS)


def task_from_item(item: dict[str, Any]) -> ObjectTask:
    """The task an item (GetItem's, or a stream record's OldImage) holds."""
    try:
        text = item[TASK]["S"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"item has no {TASK!r} string attribute") from error
    return ObjectTask.from_json(text)


def iso_utc(value: datetime) -> str:
    """The item's timestamps: UTC to the second, "2026-12-07T09:30:00Z"."""
    return _utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- marks on a rewritten object (S3 user metadata, x-amz-meta-*) ------------------------------

# The upload the object descends from: an object carrying it was written by object_rewriter,
# so object_task_scheduler ignores its "Object Created" event (no loop), and a task whose
# origin differs belongs to an object that has since been replaced.
ORIGIN_METADATA: Final = "datalake-rewrite-origin"
# Comma-separated names of the rules applied so far: a redelivered task finds its rule there.
RULES_METADATA: Final = "datalake-rewrite-rules"
# The version id the latest rewrite replaced (deleted unless the rule keeps it).
REPLACES_METADATA: Final = "datalake-rewrite-replaces"


def applied_rules(metadata: dict[str, str]) -> tuple[str, ...]:
    text = metadata.get(RULES_METADATA, "")
    return tuple(name for name in text.split(",") if name)


def lineage(metadata: dict[str, str], version_id: str | None, etag: str) -> str:
    """The upload an object (as HeadObject describes it) descends from: the origin mark of a
    rewritten object, else its own version id, else (unversioned bucket) its ETag."""
    return metadata.get(ORIGIN_METADATA) or real_version_id(version_id) or etag.strip('"')


def upload_origin(version_id: str | None, etag: str) -> str:
    """The origin of a fresh upload, from its "Object Created" event."""
    return real_version_id(version_id) or etag.strip('"')


def real_version_id(version_id: str | None) -> str | None:
    """A version id that names a version; None for none, or for the "null" S3 reports for an
    object written while versioning was off."""
    return None if version_id in (None, "", "null") else version_id
