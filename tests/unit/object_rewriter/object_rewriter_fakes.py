"""In-memory stand-ins for S3 (versioned or not), ObjectTaskTable and the task queue, tasks over
them, and the sample events."""

import hashlib
import io
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import IO

from lambda_support import load_handler_module, load_sample_event
from object_task_samples import PURGE

from datalake_shared.object_tasks import (
    ObjectTask,
    ObjectTaskRule,
    TaskOutcome,
    TaskStatus,
    upload_origin,
)
from object_rewriter.fallback import ExpiredTask, FallbackRequeuer
from object_rewriter.service import LedgerEntry, ObjectHead, ObjectRewriter, Replacement

app = load_handler_module("object_rewriter")
load_event = partial(load_sample_event, "object_rewriter")

BUCKET = "datalake-events-dataset-123456789012"
# The upload the sample events' tasks belong to.
SAMPLE_KEY = "dataset/uploads/2026/12/07/mock_uploaded_data.json"
SAMPLE_VERSION = "Kp7Qw2Ex9Rt4Yu1Io3Pa6Sd8Fg0Hj5Lz"
NOW = datetime(2027, 1, 6, 9, 31, tzinfo=UTC)
LANDED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
UPLOAD = (
    b'{"id":1,"email":"ada@example.com","file_contents":"SECRET-1"}\n'
    b'{"id":2,"email":"bob@example.com","file_contents":"SECRET-2"}\n'
)


class PreconditionFailedError(Exception):
    """Stands in for S3's 412 on a conditional put."""


class StoreUnavailableError(Exception):
    """Stands in for S3 or DynamoDB failing a call."""


@dataclass
class StoredVersion:
    version_id: str | None
    etag: str
    body: bytes
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    delete_marker: bool = False


class FakeObjectStore:
    """Keys map to their versions, newest last; an unversioned bucket keeps only the newest.

    ``crash_after`` names a method whose next call does its work and then raises (a Lambda
    that died after S3 committed); ``fail`` names one that raises without doing anything.
    """

    def __init__(self, *, versioned: bool = True) -> None:
        self.versioned = versioned
        self.objects: dict[str, list[StoredVersion]] = {}
        self.calls: list[tuple[str, str]] = []
        self.crash_after: set[str] = set()
        self.fail: dict[str, Exception] = {}
        self.before_put: list[Callable[[], object]] = []
        """Run (once each) as a put starts: a concurrent writer."""
        self._ids = itertools.count(1)

    # --- test helpers ----------------------------------------------------------------------

    def upload(
        self,
        key: str,
        body: bytes,
        *,
        metadata: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        version_id: str | None = None,
    ) -> StoredVersion:
        version = StoredVersion(
            version_id=(version_id or f"v{next(self._ids)}") if self.versioned else None,
            etag=f'"{hashlib.md5(body).hexdigest()}"',  # noqa: S324 - S3's ETag is an MD5
            body=body,
            metadata=dict(metadata or {}),
            headers=dict(headers or {}),
            tags=dict(tags or {}),
        )
        versions = self.objects.setdefault(key, [])
        if not self.versioned:
            versions.clear()
        versions.append(version)
        return version

    def delete(self, key: str) -> None:
        """DeleteObject without a version: a delete marker (versioned), else gone."""
        if self.versioned:
            self.objects.setdefault(key, []).append(
                StoredVersion(f"dm{next(self._ids)}", "", b"", delete_marker=True)
            )
        else:
            self.objects.pop(key, None)

    def current(self, key: str) -> StoredVersion | None:
        versions = self.objects.get(key) or []
        return versions[-1] if versions and not versions[-1].delete_marker else None

    def version_ids(self, key: str) -> list[str | None]:
        return [version.version_id for version in self.objects.get(key, [])]

    def _call(self, name: str, key: str) -> None:
        self.calls.append((name, key))
        if name in self.fail:
            raise self.fail.pop(name)

    def _maybe_crash(self, name: str) -> None:
        if name in self.crash_after:
            self.crash_after.discard(name)
            raise StoreUnavailableError(f"crashed after {name}")

    # --- ObjectStore -----------------------------------------------------------------------

    def head(self, bucket: str, key: str) -> ObjectHead | None:
        self._call("head", key)
        current = self.current(key)
        if current is None:
            return None
        return ObjectHead(
            version_id=current.version_id,
            etag=current.etag,
            size=len(current.body),
            metadata=dict(current.metadata),
            headers=dict(current.headers),
        )

    def _exact(self, key: str, head: ObjectHead) -> StoredVersion:
        for version in self.objects.get(key, []):
            if head.version_id is not None and version.version_id == head.version_id:
                return version
        current = self.current(key)
        if head.version_id is None and current is not None and current.etag == head.etag:
            return current
        raise PreconditionFailedError(key)

    @contextmanager
    def open(self, bucket: str, key: str, head: ObjectHead) -> Iterator[IO[bytes]]:
        self._call("get", key)
        yield io.BytesIO(self._exact(key, head).body)

    def tags(self, bucket: str, key: str, head: ObjectHead) -> dict[str, str]:
        self._call("tags", key)
        return dict(self._exact(key, head).tags)

    def put(
        self, bucket: str, key: str, body: IO[bytes], if_match: str, replacement: Replacement
    ) -> str | None:
        self._call("put", key)
        while self.before_put:
            self.before_put.pop(0)()
        current = self.current(key)
        if current is None or current.etag != if_match:
            raise PreconditionFailedError(key)
        stored = self.upload(
            key,
            body.read(),
            metadata=dict(replacement.metadata),
            headers=dict(replacement.headers),
            tags=dict(replacement.tags),
        )
        self._maybe_crash("put")
        return stored.version_id

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        self._call("delete_version", key)
        versions = self.objects.get(key, [])
        self.objects[key] = [v for v in versions if v.version_id != version_id]
        self._maybe_crash("delete_version")


@dataclass
class FakeLedger:
    items: dict[str, dict[str, object]] = field(default_factory=dict)
    fail: dict[str, Exception] = field(default_factory=dict)
    finish_calls: int = 0

    def schedule(self, task: ObjectTask) -> None:
        self.items[task.task_id] = {"status": TaskStatus.SCHEDULED.value, "task": task}

    def _call(self, name: str) -> None:
        if name in self.fail:
            raise self.fail.pop(name)

    def load(self, task_id: str) -> LedgerEntry | None:
        self._call("load")
        item = self.items.get(task_id)
        if item is None:
            return None
        task = item["task"]
        assert isinstance(task, ObjectTask)
        return LedgerEntry(task=task, status=str(item["status"]))

    def finish(
        self, task: ObjectTask, outcome: TaskOutcome, finished_at: datetime, expires_at: datetime
    ) -> bool:
        self.finish_calls += 1
        self._call("finish")
        item = self.items.setdefault(task.task_id, {"task": task})
        if item.get("status") == TaskStatus.DONE.value:
            return False
        item.update(
            status=TaskStatus.DONE.value,
            outcome=outcome.value,
            finished_at=finished_at,
            expires_at=expires_at,
        )
        item.pop("last_error", None)
        return True

    def record_failure(self, task_id: str, error: str) -> None:
        self._call("record_failure")
        item = self.items.get(task_id)
        if item is None:
            return
        attempts = item.get("attempts", 0)
        assert isinstance(attempts, int)
        item.update(attempts=attempts + 1, last_error=error)

    def _put_unless_done(self, expired: ExpiredTask, item: dict[str, object]) -> bool:
        current = self.items.get(expired.task.task_id)
        if current is not None and current.get("status") == TaskStatus.DONE.value:
            return False
        kept = {"attempts": expired.attempts, "last_error": expired.last_error}
        self.items[expired.task.task_id] = {
            "task": expired.task,
            **{name: value for name, value in kept.items() if value},
            **item,
        }
        return True

    def requeue(self, expired: ExpiredTask, now: datetime, expires_at: datetime) -> bool:
        self._call("requeue")
        item = {"status": "scheduled", "expires_at": expires_at, "fallbacks": expired.fallbacks + 1}
        return self._put_unless_done(expired, item)

    def abandon(self, expired: ExpiredTask, now: datetime, expires_at: datetime) -> bool:
        self._call("abandon")
        item = {
            "status": "failed",
            "expires_at": expires_at,
            "finished_at": now,
            "fallbacks": expired.fallbacks,
        }
        return self._put_unless_done(expired, item)


@dataclass
class FakeTaskQueue:
    sent: list[str] = field(default_factory=list)
    fail: Exception | None = None

    def send(self, task_id: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(task_id)


def task_of(
    store: FakeObjectStore, key: str, rule: ObjectTaskRule = PURGE, version: int = -1
) -> ObjectTask:
    """The task a rule gets for the upload held as ``key``'s version at ``version``."""
    stored = store.objects[key][version]
    origin = upload_origin(stored.version_id, stored.etag)
    return ObjectTask.for_upload(
        BUCKET, key, origin, rule, LANDED, origin_is_version=stored.version_id is not None
    )


def rewriter_over(
    store: FakeObjectStore, ledger: FakeLedger, *, max_object_bytes: int = 1024**2
) -> ObjectRewriter:
    return ObjectRewriter(
        store,
        ledger,
        clock=lambda: NOW,
        done_retention=timedelta(days=30),
        max_object_bytes=max_object_bytes,
    )


def requeuer_over(ledger: FakeLedger, queue: FakeTaskQueue) -> FallbackRequeuer:
    return FallbackRequeuer(
        ledger,
        queue,
        clock=lambda: NOW,
        fallback_grace=timedelta(hours=24),
        done_retention=timedelta(days=30),
    )
