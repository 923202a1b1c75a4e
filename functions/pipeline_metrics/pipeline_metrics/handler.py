"""pipeline_metrics: CodePipeline state changes (EventBridge → SQS) → CSV objects for Athena.

Thin handler: Powertools parses each SQS record into a typed pipeline, stage or action event
and each becomes one row; ``MetricsWriter`` then writes the batch's rows as one CSV object per
UTC day under ``<METRICS_PREFIX>dt=YYYY-MM-DD/<sha256 of the day's event ids>.csv`` and
announces each object on EventBridge. Records of unknown shape and the records of an object
that could not be written are reported in ``batchItemFailures``: SQS redelivers only them, and
after maxReceiveCount the DLQ keeps them. Keys are deterministic, so redelivery overwrites
instead of duplicating (see pipeline_metrics.service for the whole story).
"""

import json
from functools import cache
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import (
    PartialItemFailureResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from datalake_shared.batch_response import SqsRecordProcessor, with_failures
from datalake_shared.event_shapes import sqs_records
from datalake_shared.observability import add_counts, logger, metrics, tracer
from datalake_shared.validation import MAX_REPORTED_PROBLEMS, describe_validation_error
from pipeline_metrics.announcer import EventBridgeWrittenPublisher
from pipeline_metrics.csv_rows import metric_row
from pipeline_metrics.models import CodePipelineSqsRecord
from pipeline_metrics.service import HandledRecord, MetricsWriter, WriteReport
from pipeline_metrics.settings import get_settings
from pipeline_metrics.store import S3MetricsStore

ROWS_WRITTEN_METRIC: Final = "RowsWritten"
OBJECTS_WRITTEN_METRIC: Final = "ObjectsWritten"
DUPLICATES_METRIC: Final = "DuplicateEventsSkipped"
UNKNOWN_EVENTS_METRIC: Final = "UnknownEvents"
WRITE_FAILURES_METRIC: Final = "ObjectWriteFailures"
UNPUBLISHED_METRIC: Final = "WrittenEventsUnpublished"
TOO_LARGE_METRIC: Final = "WrittenEventsTooLarge"
FAILED_METRIC: Final = "RecordsFailed"
_ENVELOPE_KEYS: Final = ("id", "source", "detail-type")
_MAX_LOGGED_CHARS: Final = 200


def envelope_of(body: object) -> dict[str, str]:
    """The id, source and detail-type of an unparsable body, when it has them (for the log)."""
    try:
        parsed = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        key: value[:_MAX_LOGGED_CHARS]
        for key in _ENVELOPE_KEYS
        if isinstance(value := parsed.get(key), str)
    }


class _ReportingBatchProcessor(SqsRecordProcessor):
    """Logs every failed record once with its message id, and counts unknown shapes."""

    def parsed_record_failed(
        self, record: CodePipelineSqsRecord, error: BaseException | None
    ) -> None:
        logger.error(
            "Could not turn the event into a row; SQS will redeliver it",
            extra={"message_id": record.messageId, "event_id": record.body.id},
            exc_info=error,
        )

    def malformed_record(self, record: Any, error: BaseException | None) -> None:
        metrics.add_metric(name=UNKNOWN_EVENTS_METRIC, unit=MetricUnit.Count, value=1)
        envelope = envelope_of(getattr(record, "body", None))
        logger.error(
            "Unknown event shape: not a CodePipeline pipeline, stage or action state "
            "change; reported so SQS retries it and the DLQ keeps it",
            extra={
                "message_id": getattr(record, "message_id", None),
                "event_id": envelope.get("id"),
                "source": envelope.get("source"),
                "detail_type": envelope.get("detail-type"),
                "error": describe_validation_error(error, most=MAX_REPORTED_PROBLEMS)
                if isinstance(error, ValidationError)
                else repr(error),
            },
        )


processor = _ReportingBatchProcessor(CodePipelineSqsRecord)


@cache
def default_writer() -> MetricsWriter:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return MetricsWriter(
        store=S3MetricsStore(settings.metrics_bucket),
        publisher=EventBridgeWrittenPublisher.for_bus(settings.event_bus_name),
        prefix=settings.metrics_prefix,
    )


# Not traced per record: turning an event into a row costs microseconds, a subsegment more.
def row_of(record: CodePipelineSqsRecord) -> HandledRecord:
    return HandledRecord(record.messageId, metric_row(record.body))


def report_write(report: WriteReport) -> None:
    """Logs and counts what the writer did."""
    for obj in report.written:
        logger.info(
            "Metrics object written",
            extra={"key": obj.key, "dt": obj.day, "rows": len(obj.rows)},
        )
    for key, error in report.failed.items():
        logger.error(
            "Could not write metrics object; SQS will redeliver its messages",
            extra={"key": key, "error": error},
        )
    for key, error in report.unpublished.items():
        # The object is written: a consumer that missed the event finds it in the bucket.
        logger.warning(
            "Metrics object written but not announced", extra={"key": key, "error": error}
        )
    for key, error in report.too_large.items():
        logger.error(
            "Metrics object written but its announcement is too large for EventBridge; SQS "
            "will redeliver its messages, then the DLQ keeps them",
            extra={"key": key, "error": error},
        )
    counts = {
        ROWS_WRITTEN_METRIC: report.rows_written,
        OBJECTS_WRITTEN_METRIC: len(report.written),
        DUPLICATES_METRIC: report.duplicates,
        WRITE_FAILURES_METRIC: len(report.failed),
        UNPUBLISHED_METRIC: len(report.unpublished),
        TOO_LARGE_METRIC: len(report.too_large),
    }
    add_counts(counts)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, writer: MetricsWriter | None = None
) -> PartialItemFailureResponse:
    """``writer`` lets tests inject a MetricsWriter with fakes; Lambda never passes it."""
    records = sqs_records(event)
    writer = writer or default_writer()
    with processor(records=records, handler=row_of):
        processed = processor.process()
    handled = [
        result
        for status, result, _ in processed
        if status == "success" and isinstance(result, HandledRecord)
    ]
    report = writer.write(handled)
    report_write(report)

    failures = with_failures(processor.response()["batchItemFailures"], report.failed_message_ids)
    if failures:
        metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failures))
    logger.info(
        "Batch handled",
        extra={
            "records": len(records),
            "rows": report.rows_written,
            "objects": len(report.written),
            "failed": len(failures),
        },
    )
    return {"batchItemFailures": failures}
