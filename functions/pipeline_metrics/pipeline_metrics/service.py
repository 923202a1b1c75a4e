"""Batch → CSV objects: one object per UTC day of the batch's events, under a key derived from
the events it holds. Pure Python: the object store and the publisher are protocols, so the
rules are tested with in-memory fakes and the AWS adapters stay small.

Why rows are never duplicated in what users query
-------------------------------------------------
Events reach us at least once (EventBridge and SQS may both deliver twice), and SQS redelivers
only the messages a batch reported as failed, possibly batched with new messages. So:

1. Within a batch, rows are deduplicated by event id: the same event delivered in two messages
   gives one row, and both messages succeed (or fail) together.
2. An object's key is the sha256 of the sorted event ids it holds
   (``pipeline-metrics/dt=YYYY-MM-DD/<sha256>.csv``). A batch delivered again as a whole (the
   invocation timed out after writing, say) overwrites its objects with the same bytes: rows
   are sorted and nothing in the file depends on when it was written.
3. A message fails only when the object its row belongs to was not written; then no object
   holds its row, and its redelivery writes it once. Each message is one event, so one row in
   one object: no message is ever half written. Messages of unknown shape write no row at all.
4. What remains is a row written twice under two different keys: the same event delivered in
   two messages that landed in different batches, or a batch that wrote its objects but whose
   success SQS never learned of, redelivered in a different mix. Preventing that in storage
   would need a lookup per event (a DynamoDB conditional write per row, the cost this design
   avoids); instead every named query reads the table through
   ``ROW_NUMBER() OVER (PARTITION BY event_id ...) = 1``. A duplicate always lands in the same
   ``dt`` partition as its original (``dt`` is the event's own date), so the dedup is exact.

The objects per day are written one by one; a failed write fails only the messages of that
object, the other days' objects stay written. Announcing a written object is best effort (a
consumer that missed the event finds the object in the bucket), except when its announcement is
too large for EventBridge: that can never succeed, so its messages fail as well, to be
redelivered and, failing again, kept by the DLQ rather than only logged.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from datalake_shared.event_publisher import PutOutcome
from pipeline_metrics.csv_rows import MetricRow, encode_csv, object_key

CONTENT_TYPE: Final = "text/csv; charset=utf-8"


class MetricsWriteError(RuntimeError):
    """The store could not write an object; the message says why."""


@dataclass(frozen=True, slots=True)
class HandledRecord:
    """One SQS message that parsed, and its row."""

    message_id: str
    row: MetricRow


@dataclass(frozen=True, slots=True)
class MetricsObject:
    """One CSV object: a day's distinct rows of a batch, sorted by time then event id."""

    key: str
    day: str
    rows: tuple[MetricRow, ...]
    message_ids: tuple[str, ...]
    """Every message whose row is in this object (two, when one event came twice)."""

    @property
    def body(self) -> bytes:
        return encode_csv(self.rows)

    @property
    def pipelines(self) -> list[str]:
        return sorted({row.pipeline for row in self.rows})


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: tuple[MetricsObject, ...] = ()
    failed: Mapping[str, str] = field(default_factory=dict)
    """key -> why the object was not written; its messages must be redelivered."""
    failed_message_ids: tuple[str, ...] = ()
    duplicates: int = 0
    """Messages whose event id was already in the batch."""
    unpublished: Mapping[str, str] = field(default_factory=dict)
    """key -> why its "Pipeline Metrics Written" event was not published (object written)."""
    too_large: Mapping[str, str] = field(default_factory=dict)
    """key -> why its announcement can never be put (object written, its messages failed)."""

    @property
    def rows_written(self) -> int:
        return sum(len(obj.rows) for obj in self.written)


class MetricsObjectStore(Protocol):
    @property
    def bucket(self) -> str: ...

    def put_csv(self, key: str, body: bytes) -> None:
        """Writes (or overwrites) one object; raises MetricsWriteError when it cannot."""
        ...


class WrittenPublisher(Protocol):
    def publish_written(
        self, bucket: str, objects: Sequence[MetricsObject]
    ) -> dict[str, PutOutcome]:
        """Announces each object; returns key -> what was not put, for those not published."""
        ...


def plan_objects(records: Sequence[HandledRecord], prefix: str) -> tuple[list[MetricsObject], int]:
    """The batch's objects (one per day, days in order) and how many duplicate messages it had.

    The first message of an event id gives the row; later ones only join its message ids.
    """
    rows: dict[str, MetricRow] = {}
    message_ids: dict[str, list[str]] = {}
    duplicates = 0
    for record in records:
        event_id = record.row.event_id
        if event_id in rows:
            duplicates += 1
        else:
            rows[event_id] = record.row
            message_ids[event_id] = []
        message_ids[event_id].append(record.message_id)

    by_day: dict[str, list[MetricRow]] = {}
    for row in rows.values():
        by_day.setdefault(row.day, []).append(row)
    objects = []
    for day in sorted(by_day):
        day_rows = sorted(by_day[day], key=lambda row: (row.event_time, row.event_id))
        objects.append(
            MetricsObject(
                key=object_key(prefix, day, [row.event_id for row in day_rows]),
                day=day,
                rows=tuple(day_rows),
                message_ids=tuple(m for row in day_rows for m in message_ids[row.event_id]),
            )
        )
    return objects, duplicates


class MetricsWriter:
    """Writes a batch's rows as one CSV object per day, then announces the written objects."""

    def __init__(self, store: MetricsObjectStore, publisher: WrittenPublisher, prefix: str) -> None:
        self.store = store
        self.publisher = publisher
        self.prefix = prefix

    def write(self, records: Sequence[HandledRecord]) -> WriteReport:
        objects, duplicates = plan_objects(records, self.prefix)
        written: list[MetricsObject] = []
        failed: dict[str, str] = {}
        failed_message_ids: list[str] = []
        for obj in objects:
            try:
                self.store.put_csv(obj.key, obj.body)
            except MetricsWriteError as error:
                failed[obj.key] = str(error)
                failed_message_ids.extend(obj.message_ids)
            else:
                written.append(obj)
        # Announcing is best effort: the rows are stored either way, and failing the messages
        # would only rewrite the same object. Not so for an announcement too large to ever be
        # put: its messages fail, so that it ends in the DLQ instead of only in the logs.
        failures = self.publisher.publish_written(self.store.bucket, written) if written else {}
        too_large = {key: f.error or "" for key, f in failures.items() if f.too_large}
        for obj in written:
            if obj.key in too_large:
                failed_message_ids.extend(obj.message_ids)
        return WriteReport(
            written=tuple(written),
            failed=failed,
            failed_message_ids=tuple(failed_message_ids),
            duplicates=duplicates,
            unpublished={key: f.error or "" for key, f in failures.items() if not f.too_large},
            too_large=too_large,
        )
