"""Announces applied batches (and added columns) on EventBridge, source
"datalake-events.iceberg-cdc", so users can hook their own consumers."""

from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from iceberg_cdc_apply import ApplyOptions, ApplyReport

from datalake_shared.event_publisher import EventPublisher, EventPublishError

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
        "records": report.records,
        "records_applied": report.records_applied,
        "records_failed": report.failed_records,
        "keys_applied": len(report.applied),
        "inserted": report.count("inserted"),
        "updated": report.count("updated"),
        "deleted": report.count("deleted"),
        "ttl_deletes_ignored": report.ttl_ignored,
        "statements": report.statements,
        "query_execution_ids": report.query_execution_ids,
        "first_sequence_number": report.first_sequence_number,
        "last_sequence_number": report.last_sequence_number,
        "unknown_attributes": sorted(report.unknown_attributes),
    }


class CdcEventPublisher:
    """One "CDC Batch Applied" event per batch that changed the table, one "CDC Columns Added"
    per schema change. ``announce`` returns an error text instead of raising: a batch that is in
    the table must not be retried because its announcement failed."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    @classmethod
    def for_bus(cls, bus_name: str) -> "CdcEventPublisher":
        return cls(EventPublisher(component=COMPONENT, bus_name=bus_name))

    def announce(
        self, report: ApplyReport, options: ApplyOptions, stream_arn: str | None
    ) -> str | None:
        resources = [
            arn for arn in (glue_table_arn(stream_arn, options.database, options.table),) if arn
        ]
        try:
            if report.columns_added:
                detail = {
                    "database": options.database,
                    "table": options.table,
                    "columns": [{"name": n, "type": t} for n, t in report.columns_added],
                }
                self.publisher.publish(COLUMNS_ADDED, [detail], resources)
            if report.applied:
                detail = batch_detail(report, options, stream_arn)
                self.publisher.publish(BATCH_APPLIED, [detail], resources)
        except (EventPublishError, BotoCoreError, ClientError) as error:
            return f"{type(error).__name__}: {error}"
        return None
