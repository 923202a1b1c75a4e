"""file_tracker: S3 "Object Created" (EventBridge → SQS) → one item per file in the tracker table.

Thin handler: Powertools parses each SQS record into a typed event and ``FileTracker`` tracks it
(one conditional write per file); then the files of the whole batch that need announcing are
announced together (PutEvents ten at a time, one TransactWriteItems per 100 to flag them).
Failed records, including malformed ones and files whose "File Landed" event was not
published, are reported in ``batchItemFailures`` so SQS redelivers only them; tracking is
idempotent, so redelivery is safe. S3 events of another type (deleted, restored) are skipped,
saying why; an event that is not an SQS batch is rejected whole (``datalake_shared.event_shapes``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import (
    PartialItemFailureResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake_shared.batch_response import SqsRecordProcessor, with_failures
from datalake_shared.event_shapes import sqs_records
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.s3_events import S3ObjectEventSqsRecord
from file_tracker.announcer import EventBridgeLandedPublisher
from file_tracker.service import FileTracker, KeyLayout, TrackedFile, TrackOutcome, TrackResult
from file_tracker.settings import get_settings
from file_tracker.store import DynamoFileTrackerStore

OUTCOME_METRICS: Final = {
    TrackOutcome.TRACKED: "FilesTracked",
    TrackOutcome.DUPLICATE: "DuplicatesSkipped",
    TrackOutcome.UNMATCHED: "UnmatchedKeys",
    TrackOutcome.IGNORED: "ObjectsIgnored",
    TrackOutcome.NOT_CREATED: "ObjectEventsSkipped",
}
FAILED_METRIC: Final = "RecordsFailed"
UNMARKED_METRIC: Final = "AnnouncementsUnmarked"


class _LoggingBatchProcessor(SqsRecordProcessor):
    """Logs every failed record once, with its message id and, when it parsed, its object."""

    def parsed_record_failed(
        self, record: S3ObjectEventSqsRecord, error: BaseException | None
    ) -> None:
        detail = record.body.detail
        logger.error(
            "Could not track file; SQS will redeliver it",
            extra={
                "message_id": record.messageId,
                "bucket": detail.bucket.name,
                "object_key": detail.object.key,
            },
            exc_info=error,
        )


processor = _LoggingBatchProcessor(S3ObjectEventSqsRecord, body_is="an EventBridge S3 object event")


@cache
def default_tracker() -> FileTracker:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return FileTracker(
        layout=KeyLayout(prefix=settings.staging_prefix, pattern=settings.staging_key_pattern),
        store=DynamoFileTrackerStore(settings.file_tracker_table),
        publisher=EventBridgeLandedPublisher.for_bus(settings.event_bus_name),
    )


@dataclass(frozen=True, slots=True)
class HandledRecord:
    """What ``track_record`` hands back to the batch: the message and how its object fared."""

    message_id: str
    result: TrackResult


# Not traced per record: an X-Ray subsegment per file costs more than tracking it (measured in
# benchmarks/); the handler's segment and the boto3 calls it makes are traced.
def track_record(record: S3ObjectEventSqsRecord, tracker: FileTracker) -> HandledRecord:
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
        elif result.outcome is TrackOutcome.NOT_CREATED:
            # The rule routes only "Object Created"; another type here means a changed rule.
            logger.warning("Not a landed file; skipped", extra={"reason": result.note})
        else:
            # Per file at DEBUG: the table is the record of what was tracked; WARNING/ERROR
            # lines carry these keys when something needs a look.
            logger.debug(
                "Object handled",
                extra={
                    "outcome": result.outcome.value,
                    "source_table": result.file.source_table if result.file else None,
                    "file_id": result.file.file_id if result.file else None,
                    "needs_announcing": result.needs_announcing,
                },
            )
    return HandledRecord(record.messageId, result)


def announce_batch(tracker: FileTracker, handled: Sequence[HandledRecord]) -> list[str]:
    """Announces the batch's files that need it; returns the message ids SQS must redeliver."""
    pending: list[tuple[HandledRecord, TrackedFile]] = [
        (record, record.result.file)
        for record in handled
        if record.result.needs_announcing and record.result.file is not None
    ]
    report = tracker.announce([file for _, file in pending])
    redeliver: list[str] = []
    for record, file in pending:
        error = report.failed.get(file.file_id)
        if error is None:
            continue
        redeliver.append(record.message_id)
        logger.error(
            "Could not announce file; SQS will redeliver it",
            extra={
                "message_id": record.message_id,
                "bucket": file.bucket,
                "object_key": file.key,
                "file_id": file.file_id,
                "error": error,
            },
        )
    for failure in report.mark_failures:
        # Tracked and announced all the same; a redelivery of these would announce them again,
        # which "File Landed" (at-least-once) allows.
        logger.warning(
            "Announced files not flagged as announced",
            extra={
                "files": len(failure.files),
                "file_ids": [file.file_id for file in failure.files],
                "error": failure.error,
            },
        )
    if report.unmarked:
        metrics.add_metric(name=UNMARKED_METRIC, unit=MetricUnit.Count, value=report.unmarked)
    return redeliver


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, tracker: FileTracker | None = None
) -> PartialItemFailureResponse:
    """``tracker`` lets tests inject a FileTracker with fakes; Lambda never passes it."""
    records = sqs_records(event)
    tracker = tracker or default_tracker()
    with processor(records=records, handler=partial(track_record, tracker=tracker)):
        processed = processor.process()
    handled = [
        result
        for status, result, _ in processed
        if status == "success" and isinstance(result, HandledRecord)
    ]
    redeliver = announce_batch(tracker, handled)

    # Records that failed tracking are already in the processor's response; a record whose file
    # was tracked but not announced is added, so SQS redelivers it and the redelivery announces.
    failures = with_failures(processor.response()["batchItemFailures"], redeliver)
    if failures:
        metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failures))
    logger.info(
        "Batch handled",
        extra={"records": len(records), "failed": len(failures)},
    )
    return {"batchItemFailures": failures}
