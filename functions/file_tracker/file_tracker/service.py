"""File tracking domain logic: which landed objects are tracked, under which id, and when the
"File Landed" event is announced. Pure Python: the store and the publisher are protocols, so the
rules are tested with in-memory fakes and the AWS adapters stay small.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Protocol

from datalake_contracts.file_tracker_item import (
    EVENT_TIME_FORMAT,
    FILE_ID_LENGTH,
    LANDED_STATUS,
    LoadType,
)
from datalake_shared.s3_events import S3ObjectEvent

# AWS DMS names full-load files LOAD00000001.parquet / .csv / .csv.gz; CDC files are named by
# timestamp (20261122-101500123.parquet).
_FULL_LOAD_FILE = re.compile(r"LOAD\d+(?:\.|$)")
# Objects written while bucket versioning is suspended all carry the version id "null", so it
# cannot tell two writes of a key apart: fall through to the sequencer instead.
_SUSPENDED_VERSION_ID = "null"
# The tracker table's partition key is the source table; DynamoDB refuses one over 2,048 bytes.
MAX_SOURCE_TABLE_BYTES: Final = 2048


@dataclass(frozen=True, slots=True)
class KeyParts:
    schema: str
    table: str
    file_name: str


@dataclass(frozen=True, slots=True)
class KeyLayout:
    """Maps an object key to (schema, table, file name) with a configurable regex.

    The key must start with ``prefix``; the rest is matched (anchored at its start, as
    ``re.match`` does) against ``pattern``, which names the groups ``schema`` and ``table`` and
    optionally ``file_name`` (default: the key's last segment).
    """

    prefix: str
    pattern: str

    def parse(self, key: str) -> KeyParts | None:
        if not key.startswith(self.prefix):
            return None
        match = re.match(self.pattern, key[len(self.prefix) :])  # re caches compiled patterns
        if match is None:
            return None
        groups = match.groupdict()
        schema, table = groups.get("schema"), groups.get("table")
        if not schema or not table:
            return None
        file_name = groups.get("file_name") or key.rsplit("/", 1)[-1]
        return KeyParts(schema=schema, table=table, file_name=file_name)


def load_type(file_name: str) -> LoadType:
    return "full" if _FULL_LOAD_FILE.match(file_name) else "cdc"


def is_ignored_object(key: str, size: int) -> bool:
    """Folder markers ("sales/orders/") and zero-byte objects carry no data to merge."""
    return key.endswith("/") or size == 0


def file_id(
    bucket: str, key: str, version_id: str | None, sequencer: str | None, etag: str | None
) -> str:
    """Deterministic id of one written object version.

    Redelivering an event gives the same id (so a conditional write never duplicates a file);
    a new write of the same key gives a new one (new version id, else a new sequencer). The
    discriminator's kind is hashed too, and the parts are JSON-encoded, so no two different
    inputs share an encoding.
    """
    if version_id == _SUSPENDED_VERSION_ID:
        version_id = None
    discriminator: tuple[str, str] | None = next(
        (
            (kind, value)
            for kind, value in (("version", version_id), ("sequencer", sequencer), ("etag", etag))
            if value
        ),
        None,
    )
    encoded = json.dumps([bucket, key, discriminator], separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:FILE_ID_LENGTH]


def event_time_iso(moment: datetime) -> str:
    """Fixed-width UTC ISO-8601 ("2026-11-22T10:15:00Z") so strings sort in time order.

    EventBridge event times have second resolution; a naive time is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(EVENT_TIME_FORMAT)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackedFile:
    source_table: str
    file_id: str
    bucket: str
    key: str
    size: int
    etag: str | None
    version_id: str | None
    sequencer: str | None
    event_time: str
    event_id: str
    schema_name: str
    table_name: str
    file_name: str
    load_type: LoadType
    status: str = LANDED_STATUS

    @classmethod
    def from_event(cls, event: S3ObjectEvent, parts: KeyParts) -> "TrackedFile":
        obj = event.detail.object
        bucket = event.detail.bucket.name
        return cls(
            source_table=f"{parts.schema}.{parts.table}",
            file_id=file_id(bucket, obj.key, obj.version_id, obj.sequencer, obj.etag),
            bucket=bucket,
            key=obj.key,
            size=obj.size,
            etag=obj.etag,
            version_id=obj.version_id,
            sequencer=obj.sequencer,
            event_time=event_time_iso(event.time),
            event_id=event.id,
            schema_name=parts.schema,
            table_name=parts.table,
            file_name=parts.file_name,
            load_type=load_type(parts.file_name),
        )


class TrackOutcome(StrEnum):
    TRACKED = "tracked"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    UNMATCHED = "unmatched"
    NOT_CREATED = "not_created"
    """An S3 event of another type (deleted, restored, expired): no file landed."""


@dataclass(frozen=True, slots=True)
class PutResult:
    created: bool
    """False when an earlier delivery already wrote the item."""
    announced: bool
    """Whether the stored item's "File Landed" event was published (always False if created)."""


@dataclass(frozen=True, slots=True)
class TrackResult:
    outcome: TrackOutcome
    bucket: str
    key: str
    file: TrackedFile | None = None
    needs_announcing: bool = False
    """True for a file whose "File Landed" event was never published: new, or stored by a
    delivery that did not get to announce it."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class MarkFailure:
    """Files announced whose items could not be flagged announced, and why."""

    files: tuple[TrackedFile, ...]
    error: str


@dataclass(frozen=True, slots=True)
class AnnounceReport:
    failed: Mapping[str, str] = field(default_factory=dict)
    """file_id -> why its "File Landed" event was not published; its deliveries must be retried."""
    published: tuple[TrackedFile, ...] = ()
    mark_failures: tuple[MarkFailure, ...] = ()
    """Published, but still flagged unannounced: a redelivery would announce them again."""

    @property
    def unmarked(self) -> int:
        return sum(len(failure.files) for failure in self.mark_failures)


class TrackerStore(Protocol):
    def put_if_absent(self, file: TrackedFile) -> PutResult: ...

    def mark_announced_batch(self, files: Sequence[TrackedFile]) -> list[MarkFailure]:
        """Flags the (existing) items announced; returns the files it could not flag."""
        ...

    def record_unmatched(
        self, bucket: str, key: str, file_id: str, event_time: str, reason: str
    ) -> None: ...


class LandedEventPublisher(Protocol):
    def publish_landed_batch(self, files: Sequence[TrackedFile]) -> dict[str, str]:
        """Announces each file; returns file_id -> error for those not published."""
        ...


class FileTracker:
    """Records each landed object exactly once and announces it at least once.

    ``track`` handles one object and says whether it needs announcing; ``announce`` then
    publishes a whole batch of those and flags them announced, so a batch costs one write per
    file plus a few calls for all of them.
    """

    def __init__(
        self, layout: KeyLayout, store: TrackerStore, publisher: LandedEventPublisher
    ) -> None:
        self.layout = layout
        self.store = store
        self.publisher = publisher

    def track(self, event: S3ObjectEvent) -> TrackResult:
        bucket, obj = event.detail.bucket.name, event.detail.object
        if not event.created:
            return TrackResult(
                TrackOutcome.NOT_CREATED, bucket, obj.key, note=event.not_created_reason
            )
        if is_ignored_object(obj.key, obj.size):
            return TrackResult(TrackOutcome.IGNORED, bucket, obj.key)

        parts = self.layout.parse(obj.key)
        if parts is None:
            # Quarantined rather than dropped, so a wrong pattern never silently loses files.
            return self._quarantine(
                event,
                f"key does not match STAGING_KEY_PATTERN {self.layout.pattern!r} "
                f"under STAGING_PREFIX {self.layout.prefix!r}",
            )
        source_table = f"{parts.schema}.{parts.table}"
        if len(source_table.encode()) > MAX_SOURCE_TABLE_BYTES:
            # Only a pattern whose groups overlap can name a table this long from a 1,024-byte
            # key; DynamoDB would refuse it as the partition key.
            return self._quarantine(
                event,
                f"STAGING_KEY_PATTERN {self.layout.pattern!r} maps the key to a source table "
                f"name of more than {MAX_SOURCE_TABLE_BYTES} bytes",
            )

        file = TrackedFile.from_event(event, parts)
        put = self.store.put_if_absent(file)
        # An item written by a delivery that failed before announcing is announced now; once
        # announced, redeliveries publish nothing.
        outcome = TrackOutcome.TRACKED if put.created else TrackOutcome.DUPLICATE
        return TrackResult(
            outcome, bucket, obj.key, file=file, needs_announcing=put.created or not put.announced
        )

    def _quarantine(self, event: S3ObjectEvent, reason: str) -> TrackResult:
        bucket, obj = event.detail.bucket.name, event.detail.object
        self.store.record_unmatched(
            bucket=bucket,
            key=obj.key,
            file_id=file_id(bucket, obj.key, obj.version_id, obj.sequencer, obj.etag),
            event_time=event_time_iso(event.time),
            reason=reason,
        )
        return TrackResult(TrackOutcome.UNMATCHED, bucket, obj.key)

    def announce(self, files: Sequence[TrackedFile]) -> AnnounceReport:
        """Publishes "File Landed" for each file, then flags the published ones announced.

        A file listed twice (the same object delivered twice in one batch) is announced once.
        A file whose event was not published stays unflagged, so its redelivery announces it;
        failing to flag a published file only risks a second announcement later, which
        at-least-once consumers (deduping by file_id) absorb.
        """
        unique = list({file.file_id: file for file in files}.values())
        if not unique:
            return AnnounceReport()
        failed = self.publisher.publish_landed_batch(unique)
        published = tuple(file for file in unique if file.file_id not in failed)
        mark_failures = self.store.mark_announced_batch(published) if published else []
        return AnnounceReport(
            failed=failed, published=published, mark_failures=tuple(mark_failures)
        )
