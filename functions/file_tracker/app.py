"""file_tracker: S3 "Object Created" (EventBridge → SQS) → one item per file in the tracker table.

Thin handler: Powertools parses each SQS record into a typed event, ``FileTracker`` decides, the
DynamoDB and EventBridge adapters act. Failed records (including malformed ones) are reported
in ``batchItemFailures`` so SQS redelivers only them; tracking is idempotent, so redelivery
is safe.
"""

from functools import cache, partial
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from file_tracker_settings import get_settings
from file_tracker_store import DynamoFileTrackerStore
from file_tracking import FileTracker, KeyLayout, TrackOutcome
from landed_events import EventBridgeLandedPublisher
from pydantic import ValidationError

from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.s3_events import S3ObjectCreatedSqsRecord

OUTCOME_METRICS: Final = {
    TrackOutcome.TRACKED: "FilesTracked",
    TrackOutcome.DUPLICATE: "DuplicatesSkipped",
    TrackOutcome.UNMATCHED: "UnmatchedKeys",
    TrackOutcome.IGNORED: "ObjectsIgnored",
}
FAILED_METRIC: Final = "RecordsFailed"
_MAX_REPORTED_PROBLEMS: Final = 10


def describe_error(error: BaseException | None) -> str:
    """One line per invalid field for validation errors (pydantic's text is long), else str()."""
    if not isinstance(error, ValidationError):
        return str(error)
    problems = [
        f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
        for issue in error.errors(include_url=False, include_input=False)
    ]
    more = len(problems) - _MAX_REPORTED_PROBLEMS
    shown = "; ".join(problems[:_MAX_REPORTED_PROBLEMS])
    return f"{shown}; and {more} more" if more > 0 else shown


class _LoggingBatchProcessor(BatchProcessor):
    """Logs every failed record once, with its message id and, when it parsed, its object."""

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        if isinstance(record, S3ObjectCreatedSqsRecord):
            detail = record.body.detail
            logger.error(
                "Could not track file; SQS will redeliver it",
                extra={
                    "message_id": record.messageId,
                    "bucket": detail.bucket.name,
                    "object_key": detail.object.key,
                },
                exc_info=exception[1],
            )
        else:
            # Powertools hands over the raw SQS record when the body failed validation.
            logger.error(
                "Malformed record: its body is not an EventBridge S3 'Object Created' event",
                extra={
                    "message_id": getattr(record, "message_id", None),
                    "error": describe_error(exception[1]),
                },
            )
        return super().failure_handler(record, exception)


# Failures are always reported per message, even when all of a batch fails: SQS then retries
# exactly those, and the DLQ (maxReceiveCount) bounds the retries.
processor = _LoggingBatchProcessor(
    event_type=EventType.SQS,
    model=S3ObjectCreatedSqsRecord,
    raise_on_entire_batch_failure=False,
)


@cache
def default_tracker() -> FileTracker:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return FileTracker(
        layout=KeyLayout(prefix=settings.staging_prefix, pattern=settings.staging_key_pattern),
        store=DynamoFileTrackerStore(settings.file_tracker_table),
        publisher=EventBridgeLandedPublisher.for_bus(settings.event_bus_name),
    )


# Not traced per record: an X-Ray subsegment per file costs more than tracking it (measured in
# benchmarks/); the handler's segment and the boto3 calls it makes are traced.
def track_record(record: S3ObjectCreatedSqsRecord, tracker: FileTracker) -> TrackOutcome:
    event = record.body
    obj = event.detail.object
    with logger.append_context_keys(
        message_id=record.messageId,
        bucket=event.detail.bucket.name,
        object_key=obj.key,
        version_id=obj.version_id,
    ):
        result = tracker.track(event)
        metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
        if result.outcome is TrackOutcome.UNMATCHED:
            logger.warning("Key does not match the staging key pattern; quarantined")
        else:
            # Per file at DEBUG: the table is the record of what was tracked; WARNING/ERROR
            # lines carry these keys when something needs a look.
            logger.debug(
                "Object handled",
                extra={
                    "outcome": result.outcome.value,
                    "source_table": result.file.source_table if result.file else None,
                    "file_id": result.file.file_id if result.file else None,
                    "landed_event_published": result.published,
                },
            )
    return result.outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, tracker: FileTracker | None = None
) -> PartialItemFailureResponse:
    """``tracker`` lets tests inject a FileTracker with fakes; Lambda never passes it."""
    response = process_partial_response(
        event=event,
        record_handler=partial(track_record, tracker=tracker or default_tracker()),
        processor=processor,
        context=context,
    )
    failed = len(response["batchItemFailures"])
    if failed:
        metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=failed)
    logger.info("Batch handled", extra={"records": len(event["Records"]), "failed": failed})
    return response
