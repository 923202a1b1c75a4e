"""catalog_type_fixer: Glue catalog changes (EventBridge → SQS) → set<T> made array<T>.

Thin handler: Powertools parses each SQS record into a typed Glue event (a table state change,
UpdateTable; or a database state change, CreateTable, naming its tables) and
``CatalogTypeFixer`` fixes each table it names (GetTable, then UpdateTable at the version read).
Failed records are reported in ``batchItemFailures`` so SQS redelivers only them: a table a
crawler changed between the read and the write (ConcurrentModificationException) is read afresh
by the retry, and any other Glue error is logged and retried until the queue's DLQ takes it.
Malformed bodies fail alone; an event that is not an SQS batch is rejected whole
(``datalake_shared.event_shapes``). Partition and delete changes, other databases, views and
deleted tables are skipped, saying why; Iceberg tables are refused.
"""

from functools import cache, partial
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from catalog_type_fixer.catalog import GlueCatalog
from catalog_type_fixer.models import CatalogChangeSqsRecord
from catalog_type_fixer.service import (
    CatalogTypeFixer,
    FixOutcome,
    FixResult,
    TableChangedMeanwhileError,
)
from catalog_type_fixer.settings import get_settings
from datalake_shared.batch_response import SqsRecordProcessor
from datalake_shared.event_shapes import sqs_records
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.validation import MAX_REPORTED_PROBLEMS, describe_error

OUTCOME_METRICS: Final = {
    FixOutcome.FIXED: "TablesFixed",
    FixOutcome.UNCHANGED: "TablesUnchanged",
    FixOutcome.REFUSED: "TablesRefused",
    FixOutcome.SKIPPED: "EventsSkipped",
}
COLUMNS_METRIC: Final = "ColumnsFixed"
FAILED_METRIC: Final = "RecordsFailed"


class _LoggingBatchProcessor(SqsRecordProcessor):
    """Logs every failed record once, with its message id and, when it parsed, its table."""

    def parsed_record_failed(
        self, record: CatalogChangeSqsRecord, error: BaseException | None
    ) -> None:
        detail = record.body.detail
        extra = {
            "message_id": record.messageId,
            "database": detail.database_name,
            "tables": list(detail.tables),
            "error": describe_error(error, most=MAX_REPORTED_PROBLEMS),
        }
        if isinstance(error, TableChangedMeanwhileError):
            # Expected when a crawler runs: the retry reads the new version.
            logger.warning("Table changed while being fixed; SQS will redeliver it", extra=extra)
            return
        logger.error("Could not fix table; SQS will redeliver it", extra=extra, exc_info=error)


processor = _LoggingBatchProcessor(
    CatalogChangeSqsRecord, body_is="a Glue catalog state change event"
)


@cache
def default_fixer() -> CatalogTypeFixer:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    return CatalogTypeFixer(databases=get_settings().databases, catalog=GlueCatalog())


def fix_record(record: CatalogChangeSqsRecord, fixer: CatalogTypeFixer) -> tuple[FixResult, ...]:
    event = record.body
    with logger.append_context_keys(
        message_id=record.messageId,
        database=event.detail.database_name,
        type_of_change=event.detail.type_of_change,
    ):
        results = fixer.fix(event)
        for result in results:
            _report(result)
    return results


def _report(result: FixResult) -> None:
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    with logger.append_context_keys(table=result.table):
        if result.outcome is FixOutcome.FIXED:
            columns = len(result.columns)
            metrics.add_metric(name=COLUMNS_METRIC, unit=MetricUnit.Count, value=columns)
            logger.info("Set types made arrays", extra={"columns": list(result.columns)})
        elif result.outcome is FixOutcome.REFUSED:
            logger.warning("Table refused; left as it is", extra={"reason": result.note})
        elif result.outcome is FixOutcome.SKIPPED:
            logger.info("Event skipped", extra={"reason": result.note})
        else:
            logger.debug("No set type in the table's columns")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, fixer: CatalogTypeFixer | None = None
) -> PartialItemFailureResponse:
    """``fixer`` lets tests inject a fixer over a fake catalog; Lambda never passes it."""
    records = sqs_records(event)
    fixer = fixer or default_fixer()
    with processor(records=records, handler=partial(fix_record, fixer=fixer)):
        processor.process()
    failures = processor.response()["batchItemFailures"]
    if failures:
        metrics.add_metric(name=FAILED_METRIC, unit=MetricUnit.Count, value=len(failures))
    logger.info("Batch handled", extra={"records": len(records), "failed": len(failures)})
    return {"batchItemFailures": failures}
