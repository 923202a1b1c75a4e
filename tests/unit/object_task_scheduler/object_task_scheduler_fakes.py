"""In-memory stand-ins for the scheduler's S3 head, ledger and triggers, the rules the tests
use, and sample-event loading."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from lambda_support import load_handler_module, load_sample_event, sqs_batch_like
from object_task_samples import PURGE

from datalake_shared.object_tasks import ObjectTask, ObjectTaskRule, TaskStatus
from datalake_shared.s3_events import S3ObjectEvent, S3ObjectEventSqsRecord
from object_task_scheduler.planning import ScheduleAt, SendNow, Trigger
from object_task_scheduler.service import LedgerPut, ObjectHead, ObjectTaskScheduler

app = load_handler_module("object_task_scheduler")
load_event = partial(load_sample_event, "object_task_scheduler")

BUCKET = "datalake-events-dataset-123456789012"
KEY = "dataset/uploads/2026/12/07/mock_uploaded_data.json"
VERSION_ID = "Kp7Qw2Ex9Rt4Yu1Io3Pa6Sd8Fg0Hj5Lz"
ETAG = "5d41402abc4b2a76b9719d911017c592"
LANDED_AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # the samples' event time
NOW = datetime(2026, 12, 7, 9, 32, 5, tzinfo=UTC)  # when the function runs

# Due ten minutes after landing: sent now, with a delay.
SOON = ObjectTaskRule(
    name="drop-tokens",
    prefix="dataset/uploads/",
    after_days=10 / 1440,
    action="remove",
    fields=("token",),
)


def s3_event(name: str, index: int = 0) -> S3ObjectEvent:
    """The S3 event inside a sample SQS batch's record."""
    return S3ObjectEventSqsRecord.model_validate(load_event(name)["Records"][index]).body


def object_created(
    key: str = KEY,
    *,
    size: int = 198734,
    version_id: str | None = VERSION_ID,
    etag: str | None = ETAG,
    time: str = "2026-12-07T09:30:00Z",
    detail_type: str = "Object Created",
) -> dict[str, Any]:
    """An EventBridge S3 event shaped like the samples, for one object (JSON-ready)."""
    body: dict[str, Any] = json.loads(load_event("object_created.json")["Records"][0]["body"])
    body["time"] = time
    body["detail-type"] = detail_type
    obj: dict[str, Any] = {"key": key, "size": size, "sequencer": "00656F1A2B3C4D5E6F"}
    if etag is not None:
        obj["etag"] = etag
    if version_id is not None:
        obj["version-id"] = version_id
    body["detail"]["object"] = obj
    return body


def event_of(body: dict[str, Any]) -> S3ObjectEvent:
    return S3ObjectEvent.model_validate(body)


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS batch (sample record shape) carrying the given bodies, message ids m0, m1..."""
    return sqs_batch_like(load_event("object_created.json")["Records"][0], *bodies)


class FakeAwsError(RuntimeError):
    """Stands in for an AWS call that failed (throttled, denied, unreachable)."""


@dataclass
class FakeHeads:
    """Objects by (bucket, key, version id); a head without a version reads the latest."""

    objects: dict[tuple[str, str, str | None], ObjectHead] = field(default_factory=dict)
    latest: dict[tuple[str, str], ObjectHead] = field(default_factory=dict)
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)

    def put(
        self,
        key: str = KEY,
        *,
        version_id: str | None = VERSION_ID,
        etag: str = ETAG,
        metadata: dict[str, str] | None = None,
        bucket: str = BUCKET,
    ) -> None:
        head = ObjectHead(metadata=metadata or {}, etag=f'"{etag}"', version_id=version_id)
        self.objects[(bucket, key, version_id)] = head
        self.latest[(bucket, key)] = head

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectHead | None:
        self.calls.append((bucket, key, version_id))
        if version_id:
            return self.objects.get((bucket, key, version_id))
        return self.latest.get((bucket, key))


@dataclass
class FakeLedger:
    """Write-once items by task id, like the conditional PutItem; ``outages`` puts fail first."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    puts: list[str] = field(default_factory=list)
    outages: int = 0

    def put_if_absent(self, task: ObjectTask, now: datetime) -> LedgerPut:
        self.puts.append(task.task_id)
        if self.outages:
            self.outages -= 1
            raise FakeAwsError("ProvisionedThroughputExceededException")
        existing = self.items.get(task.task_id)
        if existing is not None:
            return LedgerPut(created=False, status=existing.get("status"))
        self.items[task.task_id] = {"status": TaskStatus.SCHEDULED.value, "task": task, "at": now}
        return LedgerPut(created=True)

    def finish(self, task_id: str) -> None:
        self.items[task_id]["status"] = TaskStatus.DONE.value


@dataclass
class FakeTriggers:
    """Schedules by name (a second create is a conflict) and the messages sent; ``outages``
    calls fail first."""

    schedules: dict[str, str] = field(default_factory=dict)
    sent: list[tuple[str, int]] = field(default_factory=list)
    calls: list[tuple[str, Trigger]] = field(default_factory=list)
    outages: int = 0

    def ensure(self, task: ObjectTask, trigger: Trigger) -> bool:
        self.calls.append((task.task_id, trigger))
        if self.outages:
            self.outages -= 1
            raise FakeAwsError("ThrottlingException")
        if isinstance(trigger, SendNow):
            self.sent.append((task.task_id, trigger.delay_seconds))
            return True
        assert isinstance(trigger, ScheduleAt)
        if task.task_id in self.schedules:
            return False
        self.schedules[task.task_id] = trigger.expression
        return True


@dataclass
class Fakes:
    heads: FakeHeads = field(default_factory=FakeHeads)
    ledger: FakeLedger = field(default_factory=FakeLedger)
    triggers: FakeTriggers = field(default_factory=FakeTriggers)

    def scheduler(self, rules: Sequence[ObjectTaskRule] = (PURGE,)) -> ObjectTaskScheduler:
        return ObjectTaskScheduler(rules, self.heads, self.ledger, self.triggers, clock=lambda: NOW)

    def tasks(self) -> list[ObjectTask]:
        return [item["task"] for item in self.ledger.items.values()]
