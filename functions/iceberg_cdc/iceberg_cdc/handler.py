"""iceberg_cdc: DynamoDB stream (NEW_AND_OLD_IMAGES) -> Athena MERGE -> Iceberg table.

Thin handler: ``CdcApplier`` reads the batch's records, keeps the last change per key, types
every value from the table's Glue columns and applies the batch as one MERGE (more only when
the query-size limit says so), bisecting a rejected statement so a bad record fails alone.
Failed records come back in ``batchItemFailures`` by sequence number (ReportBatchItemFailures):
Lambda replays the stream from the lowest one, which is harmless because MERGE of final images
is idempotent. Then the batch is announced ("CDC Batch Applied", in as many parts as fit
EventBridge's entries). An announcement EventBridge could not take now (throttled, unreachable)
is logged and counted, never a reason to replay a batch that is in the table; one too large to
ever be put fails the batch's applied records too, so that the batch is replayed and, retries
spent, lands in the failures queue (OnFailure) where it is alarmed, instead of only a log line.

One function serves every configured table: the batch's table comes from its records'
``eventSourceARN`` and its cdc_tables entry (``routing``); records of a table with no active
entry are reported failed, so they are retried and then reach the failures queue.

Why not Powertools' BatchProcessor: the unit of work is the batch (one statement for all
keys), not the record, and a failing record must be found by bisecting statements.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext

from datalake_shared.cdc_tables import CdcTableStore
from datalake_shared.event_publisher import PutOutcome
from datalake_shared.event_shapes import DYNAMODB_STREAM_BATCH, batch_records
from datalake_shared.observability import add_counts, logger, metrics, tracer
from iceberg_cdc.announcer import CdcEventPublisher
from iceberg_cdc.athena import AthenaStatementRunner
from iceberg_cdc.catalog import CatalogError, GlueSchemaCatalog
from iceberg_cdc.changes import sequence_number_of
from iceberg_cdc.routing import (
    CachedTableConfigs,
    TableRouter,
    UnknownSourceError,
    by_source,
    source_table_of,
)
from iceberg_cdc.service import ApplyOptions, ApplyReport, CdcApplier
from iceberg_cdc.settings import get_settings

if TYPE_CHECKING:
    # For annotations only: at runtime Powertools' batch package costs each cold start ~20 ms
    # (and every parser model when pydantic came first), for types this function only names.
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

# Kept back from the Lambda's remaining time to log, publish and return the response.
RESPONSE_RESERVE_SECONDS: Final = 5.0
# When the context cannot tell the time left (local runs), the wait is bounded by this.
DEFAULT_BUDGET_SECONDS: Final = 300.0
_MAX_FAILURE_LOG_LINES: Final = 50


class BatchAnnouncer(Protocol):
    def announce(
        self, report: ApplyReport, options: ApplyOptions, stream_arn: str | None
    ) -> PutOutcome | None:
        """None when everything was put, else what was not (``too_large``: never can be)."""
        ...


@dataclass(frozen=True, slots=True)
class IcebergCdc:
    """What the handler works with; tests pass one built over fakes.

    ``router`` picks each batch's table (routing); without one, every batch goes to
    ``applier`` (one table)."""

    applier: CdcApplier
    announcer: BatchAnnouncer
    router: TableRouter | None = None

    def applier_for(self, source_table: str | None, remaining: Callable[[], float]) -> CdcApplier:
        if self.router is None:
            return self.applier
        return self.router.applier_for(source_table, remaining)


@cache
def default_cdc() -> IcebergCdc:
    """Built on first use, so importing needs neither environment nor AWS; then reused, which
    keeps the schema and table-config caches for the life of the container."""
    settings = get_settings()
    options = settings.apply_options()
    runner = AthenaStatementRunner(
        settings.athena_workgroup,
        settings.target_database,
        output_location=settings.athena_output_location or None,
        max_attempts=settings.athena_max_attempts,
    )
    catalog = GlueSchemaCatalog(ttl_seconds=settings.schema_cache_seconds)
    configs = None
    if settings.cdc_table_config_table:
        store = CdcTableStore(settings.cdc_table_config_table)
        configs = CachedTableConfigs(store, max_age=settings.cdc_config_cache_seconds)
    router = TableRouter(
        options,
        catalog,
        runner,
        configs=configs,
        stack_source_table=source_table_of({"eventSourceARN": settings.stack_source_stream_arn}),
        lake_bucket=settings.lake_bucket,
        config_table=settings.cdc_table_config_table or "CdcTableConfigTable",
    )
    return IcebergCdc(
        applier=CdcApplier(options, catalog, runner),
        announcer=CdcEventPublisher.for_bus(settings.event_bus_name),
        router=router,
    )


def time_left(context: Any) -> Callable[[], float]:
    """Seconds this invocation may still spend on Athena."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        return lambda: float(remaining_ms()) / 1000 - RESPONSE_RESERVE_SECONDS
    deadline = time.monotonic() + DEFAULT_BUDGET_SECONDS
    return lambda: deadline - time.monotonic()


def _stream_arn(records: list[Any]) -> str | None:
    for record in records:
        if isinstance(record, dict) and isinstance(record.get("eventSourceARN"), str):
            arn: str = record["eventSourceARN"]
            return arn
    return None


def log_report(report: ApplyReport, options: ApplyOptions) -> None:
    for index, (sequence_number, reason) in enumerate(sorted(report.failures.items())):
        if index == _MAX_FAILURE_LOG_LINES:
            logger.error("More records failed", extra={"more": len(report.failures) - index})
            break
        logger.error(
            "Record failed; Lambda will retry from the lowest failed sequence number",
            extra={"sequence_number": sequence_number, "reason": reason},
        )
    if report.unknown_attributes:
        logger.warning(
            "Attributes missing from the table were not written",
            extra={"attributes": report.unknown_attributes, "policy": options.unknown_attributes},
        )
    if report.columns_added:
        logger.info("Columns added to the table", extra={"columns": report.columns_added})
    for warning in report.warnings:
        logger.warning(warning)
    logger.info(
        "Batch handled",
        extra={
            **report.summary(),
            "commit_conflicts_retried": report.conflicts_retried,
            "throttles_retried": report.throttles_retried,
        },
    )


def emit_metrics(report: ApplyReport, announce_failure: PutOutcome | None) -> None:
    too_large = announce_failure is not None and announce_failure.too_large
    always = {
        "RecordsApplied": report.records_applied,
        "RecordsFailed": report.failed_records,
        "StatementsRun": report.statements,
    }
    when_any = {
        "CommitConflictsRetried": report.conflicts_retried,
        "ThrottlesRetried": report.throttles_retried,
        "UnknownAttributes": len(report.unknown_attributes),
        "TtlDeletesIgnored": report.ttl_ignored,
        "ColumnsAdded": len(report.columns_added),
        "EventPublishFailures": int(announce_failure is not None and not too_large),
        "EventsTooLarge": int(too_large),
    }
    add_counts(always, zeros=True)
    add_counts(when_any)


def _failed_unrouted(records: list[Any], source: str | None, reason: str) -> list[str]:
    """Every record of a batch that has no table to go to, reported failed."""
    numbers = [sequence_number_of(record, index) for index, record in enumerate(records)]
    logger.error(
        "No table for these stream records; Lambda retries them, then sends them to the "
        "failures queue",
        extra={"source_table": source, "records": len(records), "reason": reason},
    )
    return numbers


def _apply_group(
    cdc: IcebergCdc, applier: CdcApplier, records: list[Any], remaining: Callable[[], float]
) -> list[str]:
    """Applies one table's records and announces them; the sequence numbers to report."""
    report = applier.apply(records, remaining)
    options = applier.options
    failure = cdc.announcer.announce(report, options, _stream_arn(records))
    if failure is not None and failure.too_large:
        report.fail_applied(
            f"the batch's announcement is too large for EventBridge: {failure.error}"
        )
        logger.error(
            "Batch announcement too large for EventBridge; its applied records are reported "
            "failed, so that Lambda replays them and, retries spent, sends the batch to OnFailure",
            extra={"error": failure.error, "keys_reported": len(report.applied)},
        )
    elif failure is not None:
        logger.error(
            "Could not publish the batch's events; the batch is applied all the same",
            extra={"error": failure.error},
        )
    log_report(report, options)
    emit_metrics(report, failure)
    return [str(item["itemIdentifier"]) for item in report.batch_item_failures()]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, cdc: IcebergCdc | None = None
) -> "PartialItemFailureResponse":
    """``cdc`` lets tests inject an IcebergCdc over fakes; Lambda never passes it."""
    records = batch_records(event, source="aws:dynamodb", expected=DYNAMODB_STREAM_BATCH)
    cdc = cdc or default_cdc()
    remaining = time_left(context)
    failed: list[str] = []
    for source, group in by_source(records):
        try:
            applier = cdc.applier_for(source, remaining)
        except (UnknownSourceError, CatalogError) as error:
            failed += _failed_unrouted(group, source, str(error))
            add_counts({"RecordsUnrouted": len(group)})
            continue
        failed += _apply_group(cdc, applier, group, remaining)
    # Lowest first: Lambda checkpoints there (one group in practice: a mapping's batch).
    return {"batchItemFailures": [{"itemIdentifier": n} for n in sorted(set(failed), key=int)]}
