"""excel_cleaner: raw bucket → S3 notification → SNS "uploaded" → this function (asynchronous)
→ one CSV per sheet in the clean bucket, and a "cleaned" or "failed" message on the result topic.

Thin handler: every S3 record of every SNS message is handed to ``ExcelCleaner``. A file that
cannot be cleaned is quarantined and reported by the cleaner without raising, so Lambda does
not retry it. AWS errors (throttling, a service hiccup) are transient: the other records are
still handled, then the invocation raises so Lambda's asynchronous retries run it again, and
the OnFailure destination gets it once they are spent. An unexpected error (a bug) takes the
same way, counted apart, and so does an event too large for EventBridge (sending it again can
never succeed, so it must not be only logged: its retries end in OnFailure). Records already
cleaned are skipped on the retry (see ``excel_cleaner.service``).
"""

from functools import cache
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from datalake_shared.event_publisher import EntryTooLargeError, EventPublisher
from datalake_shared.observability import logger, metrics, tracer
from excel_cleaner.adapters import S3WorkbookStore, SnsResultTopic
from excel_cleaner.models import MalformedNotice, S3TestNotice, UploadedObject, parse_notices
from excel_cleaner.ports import StoreError
from excel_cleaner.service import (
    COMPONENT,
    CleanResult,
    ExcelCleaner,
    Outcome,
)
from excel_cleaner.settings import get_settings

OUTCOME_METRICS: Final = {
    Outcome.CLEANED: "WorkbooksCleaned",
    Outcome.FAILED: "WorkbooksFailed",
    Outcome.DUPLICATE: "DuplicatesSkipped",
    Outcome.IGNORED: "ObjectsIgnored",
}
MALFORMED_METRIC: Final = "MalformedNotifications"
RETRY_METRIC: Final = "RecordsToRetry"
UNPUBLISHED_METRIC: Final = "EventsUnpublished"
TEST_EVENT_METRIC: Final = "TestEventsIgnored"
UNEXPECTED_METRIC: Final = "UnexpectedErrors"
TOO_LARGE_METRIC: Final = "EventsTooLarge"
TRANSIENT_ERRORS: Final = (BotoCoreError, ClientError, StoreError)


class TransientFailureError(RuntimeError):
    """Some records failed on AWS errors (or a bug); raised, once every record was tried, so
    Lambda retries the invocation and, when its retries are spent, sends it to OnFailure."""


@cache
def default_cleaner() -> ExcelCleaner:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return ExcelCleaner(
        config=settings.cleaner_config(),
        store=S3WorkbookStore(),
        topic=SnsResultTopic(settings.result_topic_arn),
        events=EventPublisher(component=COMPONENT, bus_name=settings.event_bus_name),
    )


def log_result(result: CleanResult) -> None:
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    message = result.message or {}
    if result.outcome is Outcome.CLEANED:
        outputs = message.get("outputs", [])
        metrics.add_metric(name="SheetsWritten", unit=MetricUnit.Count, value=len(outputs))
        metrics.add_metric(
            name="RowsWritten", unit=MetricUnit.Count, value=sum(o["rows"] for o in outputs)
        )
        logger.info(
            "Workbook cleaned",
            extra={
                "outputs": [
                    {k: o[k] for k in ("key", "sheet", "rows", "columns")} for o in outputs
                ],
                "skipped_sheets": message.get("skipped_sheets", []),
                "removed_keys": message.get("removed_keys", []),
            },
        )
    elif result.outcome is Outcome.FAILED:
        logger.error(
            "Workbook failed; quarantined and reported",
            extra={
                "reason": message.get("reason"),
                "detail": message.get("message"),
                "quarantine": message.get("quarantine"),
            },
        )
    else:
        logger.info("Object skipped", extra={"outcome": result.outcome.value, "note": result.note})
    if result.event_error is not None:
        metrics.add_metric(name=UNPUBLISHED_METRIC, unit=MetricUnit.Count, value=1)
        logger.warning(
            "EventBridge event not published; the result topic has it",
            extra={"error": result.event_error},
        )


def handle_object(cleaner: ExcelCleaner, obj: UploadedObject) -> CleanResult:
    with logger.append_context_keys(
        message_id=obj.message_id,
        bucket=obj.bucket,
        object_key=obj.key,
        version_id=obj.version_id,
        sequencer=obj.sequencer,
    ):
        result = cleaner.handle(obj)
        log_result(result)
    return result


def handle_malformed(cleaner: ExcelCleaner, notice: MalformedNotice) -> CleanResult:
    metrics.add_metric(name=MALFORMED_METRIC, unit=MetricUnit.Count, value=1)
    logger.error(
        "Malformed notification: not an SNS-wrapped S3 event; reported as failed",
        extra={"message_id": notice.message_id, "error": notice.error},
    )
    result = cleaner.report_malformed(notice)
    if result.event_error is not None:
        metrics.add_metric(name=UNPUBLISHED_METRIC, unit=MetricUnit.Count, value=1)
    return result


@logger.inject_lambda_context(correlation_id_path="Records[0].Sns.MessageId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, cleaner: ExcelCleaner | None = None
) -> dict[str, Any]:
    """``cleaner`` lets tests inject an ExcelCleaner with fakes; Lambda never passes it."""
    cleaner = cleaner or default_cleaner()
    results: list[dict[str, Any]] = []
    retry: list[str] = []
    for notice in parse_notices(event):
        try:
            if isinstance(notice, S3TestNotice):
                metrics.add_metric(name=TEST_EVENT_METRIC, unit=MetricUnit.Count, value=1)
                logger.info(
                    "S3 test event ignored",
                    extra={"message_id": notice.message_id, "bucket": notice.bucket},
                )
                results.append({"outcome": Outcome.IGNORED.value, "note": "s3:TestEvent"})
            elif isinstance(notice, MalformedNotice):
                results.append(handle_malformed(cleaner, notice).summary())
            else:
                results.append(handle_object(cleaner, notice).summary())
        except EntryTooLargeError as error:
            # Never only logged: the record fails, so its retries end in OnFailure.
            where = notice.key if isinstance(notice, UploadedObject) else notice.message_id
            metrics.add_metric(name=TOO_LARGE_METRIC, unit=MetricUnit.Count, value=1)
            logger.error(
                "EventBridge event too large to put; the invocation will be retried, then "
                "sent to OnFailure",
                extra={"message_id": notice.message_id, "object_key": where, "error": str(error)},
            )
            retry.append(f"{where}: {type(error).__name__}")
        except Exception as error:  # one record's trouble must not stop the others
            where = notice.key if isinstance(notice, UploadedObject) else notice.message_id
            transient = isinstance(error, TRANSIENT_ERRORS)
            logger.exception(
                "AWS error; the invocation will be retried"
                if transient
                else "Unexpected error; the invocation will be retried, then sent to OnFailure",
                extra={"message_id": notice.message_id, "object_key": where},
            )
            if not transient:
                metrics.add_metric(name=UNEXPECTED_METRIC, unit=MetricUnit.Count, value=1)
            retry.append(f"{where}: {type(error).__name__}")
    if retry:
        metrics.add_metric(name=RETRY_METRIC, unit=MetricUnit.Count, value=len(retry))
        raise TransientFailureError(f"{len(retry)} records failed: {retry[:10]}")
    return {"results": results}
