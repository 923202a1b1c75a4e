"""Announces applied batches (and added columns) on EventBridge, source
"datalake-events.iceberg-cdc", so users can hook their own consumers.

Every announcement stays within EventBridge's entry limit (the shared publisher sizes entries as
AWS does) by splitting its one open-ended list over as many entries as needed
(``EventPublisher.split_detail``: the list cut in order, ``part``/``parts`` added; one entry,
part 1 of 1, for an ordinary batch). Every other field is repeated in each part, so a consumer
adding up counts takes them from one part (``part`` 1), not from all of them.

- "CDC Batch Applied" splits ``unknown_attributes``: DynamoDB attribute names run up to 64 KB
  and a batch of 10,000 items can carry thousands of them. The rest is bounded: counts, two
  sequence numbers, and at most MAX_STATEMENTS_PER_BATCH (500) Athena query ids of at most 128
  characters (65 KB at worst; 36-character UUIDs in practice).
- "CDC Columns Added" splits ``columns``: each column fits an entry of its own (a plain name of
  at most 255 characters; a type Glue accepted, at most 131,072 characters).

What still cannot fit (an attribute name of 64 KB of control characters is 384 KB as JSON) is
never sent: ``announce`` returns a ``too_large`` outcome and the handler fails the batch's
records, which Lambda replays and finally sends to the failures queue.
"""

from collections.abc import Sequence
from typing import Any, Final

from datalake_shared.event_publisher import Event, EventPublisher, PutOutcome, failure_of
from iceberg_cdc.service import ApplyOptions, ApplyReport

COMPONENT: Final = "iceberg-cdc"
BATCH_APPLIED: Final = "CDC Batch Applied"
COLUMNS_ADDED: Final = "CDC Columns Added"


def source_table_arn(stream_arn: str | None) -> str | None:
    """arn:aws:dynamodb:<region>:<account>:table/<t>/stream/<label> -> the table's ARN."""
    if not stream_arn or "/stream/" not in stream_arn:
        return None
    return stream_arn.split("/stream/", 1)[0]


def glue_table_arn(stream_arn: str | None, database: str, table: str) -> str | None:
    """The target table's Glue ARN, in the partition, region and account of the stream."""
    table_arn = source_table_arn(stream_arn)
    if table_arn is None:
        return None
    parts = table_arn.split(":")
    if len(parts) < 6:
        return None
    partition, region, account = parts[1], parts[3], parts[4]
    return f"arn:{partition}:glue:{region}:{account}:table/{database}/{table}"


def batch_detail(
    report: ApplyReport, options: ApplyOptions, stream_arn: str | None
) -> dict[str, Any]:
    return {
        "database": options.database,
        "table": options.table,
        "source_table_arn": source_table_arn(stream_arn),
        **report.summary(),
        "first_sequence_number": report.first_sequence_number,
        "last_sequence_number": report.last_sequence_number,
        "unknown_attributes": sorted(report.unknown_attributes),
    }


def columns_detail(report: ApplyReport, options: ApplyOptions) -> dict[str, Any]:
    return {
        "database": options.database,
        "table": options.table,
        "columns": [{"name": name, "type": kind} for name, kind in report.columns_added],
    }


class CdcEventPublisher:
    """ "CDC Columns Added" for a schema change and "CDC Batch Applied" for a batch that changed
    the table, each in as many parts as it takes to fit EventBridge's entries."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    @classmethod
    def for_bus(cls, bus_name: str) -> "CdcEventPublisher":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name))

    def announce(
        self, report: ApplyReport, options: ApplyOptions, stream_arn: str | None
    ) -> PutOutcome | None:
        """None when every part of every announcement was put, else what was not; never raises
        for EventBridge's answer. ``too_large``: a part can never be put (nothing else about
        the outcome is a reason to replay a batch that is in the table)."""
        resources = [
            arn for arn in (glue_table_arn(stream_arn, options.database, options.table),) if arn
        ]
        outcomes: list[PutOutcome] = []
        if report.columns_added:
            detail = columns_detail(report, options)
            outcomes += self._put(COLUMNS_ADDED, detail, "columns", resources)
        if report.applied:
            detail = batch_detail(report, options, stream_arn)
            outcomes += self._put(BATCH_APPLIED, detail, "unknown_attributes", resources)
        return failure_of(outcomes)

    def _put(
        self, detail_type: str, detail: dict[str, Any], field: str, resources: Sequence[str]
    ) -> list[PutOutcome]:
        events: list[Event] = self.publisher.split_detail(detail_type, detail, field, resources)
        return self.publisher.put_each(detail_type, events)
