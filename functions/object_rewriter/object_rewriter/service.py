"""Running one scheduled object task: rewrite the object its upload became, once, and record how
the task ended. Pure logic over two ports, the object store (S3) and the task ledger
(ObjectTaskTable), so every outcome and every crash point is tested with in-memory fakes.

Idempotent under redelivery without a lock: the rewritten object carries the task's marks
(``object_tasks``' ORIGIN/RULES/REPLACES metadata), the put is conditional on the ETag read, and
every later step is safe to repeat. A retry after a crash

- between the put and deleting the replaced version finds its rule's mark on the object
  (ALREADY_APPLIED), deletes the version the mark names, and finishes;
- between that delete and finishing does the same (the version is already gone: fine);
- after finishing finds the item done (task messages) and skips, or writes ``done`` again,
  which changes nothing (the TTL fallback).

A concurrent writer makes the conditional put fail (412): the task fails, and its retry sees the
new object (another upload: SUPERSEDED; another rule's rewrite: rewritten on top of it).

An upload that was replaced (SUPERSEDED) or deleted (OBJECT_MISSING) before its task ran still
holds its values in its noncurrent version: unless the rule keeps replaced versions, that version
(the task's origin, when it is a version id and not an ETag) is deleted too.

A task message whose task has no item fails (``TaskItemMissingError``): it is retried, then
dead-lettered, never dropped. The TTL fallback does not run tasks here: it requeues them
(fallback.py).
"""

import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import IO, Any, Final, Protocol

from datalake_shared.object_tasks import (
    DEFAULT_DONE_RETENTION,
    ORIGIN_METADATA,
    REPLACES_METADATA,
    RULES_METADATA,
    ObjectTask,
    TaskOutcome,
    TaskStatus,
    applied_rules,
    lineage,
    real_version_id,
)
from datalake_shared.observability import logger
from object_rewriter.rewrite import RewriteError, RewriteStats, rewrite_object
from object_rewriter.settings import DEFAULT_MAX_OBJECT_BYTES, MAX_PUT_BYTES

# The rewrite stays in memory up to this size, then spills to /tmp.
SPOOL_MEMORY_BYTES: Final = 16 * 1024**2
MAX_ERROR_TEXT: Final = 300
# S3's limit on user metadata: the UTF-8 bytes of every x-amz-meta-* name and value, summed.
MAX_USER_METADATA_BYTES: Final = 2 * 1024


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """The current object as HeadObject describes it."""

    version_id: str | None
    """None in an unversioned bucket (and for the "null" version of a suspended one)."""
    etag: str
    """As S3 sends it, quoted: what If-Match takes."""
    size: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    """User metadata (x-amz-meta-*), keys in lower case."""
    headers: Mapping[str, Any] = field(default_factory=dict)
    """The PutObject parameters kept across a rewrite (ContentType, CacheControl...,
    StorageClass, server-side encryption)."""


@dataclass(frozen=True, slots=True)
class Replacement:
    """What the rewritten object is put with."""

    metadata: Mapping[str, str]
    headers: Mapping[str, Any]
    tags: Mapping[str, str]


class ObjectStore(Protocol):
    def head(self, bucket: str, key: str) -> ObjectHead | None:
        """The current object; None when there is none (deleted: 404 or a delete marker)."""
        ...

    def open(self, bucket: str, key: str, head: ObjectHead) -> AbstractContextManager[IO[bytes]]:
        """The content of exactly the object ``head`` describes (its version, else its ETag)."""
        ...

    def tags(self, bucket: str, key: str, head: ObjectHead) -> dict[str, str]: ...

    def put(
        self, bucket: str, key: str, body: IO[bytes], if_match: str, replacement: Replacement
    ) -> str | None:
        """Replaces the object if its ETag is still ``if_match``; the new version id. Raises
        when the precondition fails (a concurrent write)."""
        ...

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Deletes one version for good; a version already gone is no error."""
        ...


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    task: ObjectTask
    status: str


class TaskLedger(Protocol):
    def load(self, task_id: str) -> LedgerEntry | None:
        """The task's item (strongly consistent read); None when there is none."""
        ...

    def finish(
        self, task: ObjectTask, outcome: TaskOutcome, finished_at: datetime, expires_at: datetime
    ) -> bool:
        """Marks the task done (creating the item when the TTL removed it); False when it
        already was (nothing written)."""
        ...

    def record_failure(self, task_id: str, error: str) -> None:
        """Counts a failed attempt on the task's item and keeps its error text."""
        ...


class RunOutcome(StrEnum):
    APPLIED = TaskOutcome.APPLIED.value
    ALREADY_APPLIED = TaskOutcome.ALREADY_APPLIED.value
    SUPERSEDED = TaskOutcome.SUPERSEDED.value
    OBJECT_MISSING = TaskOutcome.OBJECT_MISSING.value
    ALREADY_DONE = "already_done"
    """The item is done: a redelivered message or a late (repeated) trigger; nothing run."""


class TaskItemMissingError(LookupError):
    """A task message names a task without an item: it cannot be run or recorded, so the message
    fails (retried, then dead-lettered with its alarm) rather than succeeding silently."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"no ObjectTaskTable item for task {task_id}")
        self.task_id = task_id


@dataclass(frozen=True, slots=True)
class RunResult:
    outcome: RunOutcome
    task: ObjectTask | None = None
    bytes_rewritten: int = 0
    stats: RewriteStats | None = None
    deleted_version: str | None = None


def failure_text(error: BaseException) -> str:
    """A short description of a failed attempt for the item: never object content."""
    if isinstance(error, RewriteError):
        text = str(error)
    else:
        # botocore's messages name the operation and the error code, never a body; anything
        # else is named by its type only, in case its message quotes what it read.
        module = type(error).__module__ or ""
        botocore = module.startswith(("botocore", "boto3"))
        text = f"{type(error).__name__}: {error}" if botocore else type(error).__name__
    return text[:MAX_ERROR_TEXT]


def user_metadata_bytes(metadata: Mapping[str, str]) -> int:
    """How S3 measures user metadata: the UTF-8 bytes of each name and value, summed."""
    return sum(len(name.encode()) + len(value.encode()) for name, value in metadata.items())


def _now() -> datetime:
    return datetime.now(UTC)


def _spool() -> tempfile.SpooledTemporaryFile[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, mode="w+b")


class ObjectRewriter:
    def __init__(
        self,
        store: ObjectStore,
        ledger: TaskLedger,
        *,
        clock: Callable[[], datetime] = _now,
        done_retention: timedelta = DEFAULT_DONE_RETENTION,
        max_object_bytes: int = DEFAULT_MAX_OBJECT_BYTES,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.done_retention = done_retention
        self.max_object_bytes = max_object_bytes

    # --- triggers ------------------------------------------------------------------------------

    def run_scheduled(self, task_id: str) -> RunResult:
        """A task message: the task comes from its item, unless it is done. Without an item,
        TaskItemMissingError. A ``failed`` item (given up by the fallback) runs again: that is
        an operator redriving its message from the DLQ."""
        entry = self.ledger.load(task_id)
        if entry is None:
            raise TaskItemMissingError(task_id)
        if entry.status == TaskStatus.DONE.value:
            return RunResult(RunOutcome.ALREADY_DONE, entry.task)
        return self.run(entry.task)

    def run(self, task: ObjectTask) -> RunResult:
        """Runs the task and marks it done; on failure records the attempt and raises."""
        try:
            result = self._apply(task)
        except Exception as error:
            self._record_failure(task, error)
            raise
        now = self.clock()
        self.ledger.finish(task, TaskOutcome(result.outcome.value), now, now + self.done_retention)
        return result

    def _record_failure(self, task: ObjectTask, error: Exception) -> None:
        try:
            self.ledger.record_failure(task.task_id, failure_text(error))
        except Exception as ledger_error:  # best effort: the task's own error is what counts
            logger.warning(
                "Could not record the failed attempt on the task's item",
                extra={"task_id": task.task_id, "error": type(ledger_error).__name__},
            )

    # --- the steps -----------------------------------------------------------------------------

    def _apply(self, task: ObjectTask) -> RunResult:
        head = self.store.head(task.bucket, task.key)
        if head is None:
            return self._forget_origin(RunOutcome.OBJECT_MISSING, task, head)
        if lineage(dict(head.metadata), head.version_id, head.etag) != task.origin:
            return self._forget_origin(RunOutcome.SUPERSEDED, task, head)
        applied = applied_rules(dict(head.metadata))
        if task.rule.name in applied:
            return self._already_applied(task, head, applied)
        return self._rewrite(task, head, applied)

    def _forget_origin(
        self, outcome: RunOutcome, task: ObjectTask, head: ObjectHead | None
    ) -> RunResult:
        """The upload is no longer the object, but its version (noncurrent now) still holds what
        the rule removes: delete it, unless the rule keeps replaced versions or the origin is an
        ETag (an unversioned bucket: the upload is gone with its object). Never the current
        version (a copy may carry another lineage's mark)."""
        keep = task.rule.keep_replaced_version or not task.origin_is_version
        if keep or (head is not None and head.version_id == task.origin):
            return RunResult(outcome, task)
        self.store.delete_version(task.bucket, task.key, task.origin)
        return RunResult(outcome, task, deleted_version=task.origin)

    def _already_applied(
        self, task: ObjectTask, head: ObjectHead, applied: tuple[str, ...]
    ) -> RunResult:
        """A redelivery after the put: only the replaced version may be left to delete. The
        object's REPLACES mark names the version its latest rewrite replaced, so it is this
        rule's only while this rule was the latest (a later rule may keep its own)."""
        replaced = head.metadata.get(REPLACES_METADATA)
        deleted = None
        if replaced and applied[-1] == task.rule.name and not task.rule.keep_replaced_version:
            self.store.delete_version(task.bucket, task.key, replaced)
            deleted = replaced
        return RunResult(RunOutcome.ALREADY_APPLIED, task, deleted_version=deleted)

    def _rewrite(self, task: ObjectTask, head: ObjectHead, applied: tuple[str, ...]) -> RunResult:
        if head.size > self.max_object_bytes:
            raise RewriteError(
                f"the object ({head.size} bytes) is larger than MAX_OBJECT_BYTES "
                f"({self.max_object_bytes})"
            )
        version = real_version_id(head.version_id)
        metadata = self._marked_metadata(task, head, applied, version)
        with _spool() as spool:
            with self.store.open(task.bucket, task.key, head) as source:
                stats = rewrite_object(task.key, source, spool, task.rule)
            size = spool.tell()
            if size > MAX_PUT_BYTES:
                raise RewriteError(f"the rewritten object ({size} bytes) exceeds PutObject's limit")
            spool.seek(0)
            tags = self.store.tags(task.bucket, task.key, head)
            replacement = Replacement(metadata=metadata, headers=dict(head.headers), tags=tags)
            self.store.put(task.bucket, task.key, spool, head.etag, replacement)
        deleted = None
        if version is not None and not task.rule.keep_replaced_version:
            self.store.delete_version(task.bucket, task.key, version)
            deleted = version
        return RunResult(RunOutcome.APPLIED, task, size, stats, deleted)

    @staticmethod
    def _marked_metadata(
        task: ObjectTask, head: ObjectHead, applied: tuple[str, ...], version: str | None
    ) -> dict[str, str]:
        """The object's user metadata plus the task's marks; RewriteError (before any read)
        when S3 would refuse it as over 2 KB."""
        metadata = {
            name: value
            for name, value in head.metadata.items()
            if name not in (ORIGIN_METADATA, RULES_METADATA, REPLACES_METADATA)
        }
        metadata[ORIGIN_METADATA] = task.origin
        metadata[RULES_METADATA] = ",".join((*applied, task.rule.name))
        if version is not None:
            metadata[REPLACES_METADATA] = version
        size = user_metadata_bytes(metadata)
        if size > MAX_USER_METADATA_BYTES:
            raise RewriteError(
                f"the object's user metadata with the rewrite marks ({size} bytes) exceeds "
                f"S3's {MAX_USER_METADATA_BYTES}-byte limit"
            )
        return metadata
