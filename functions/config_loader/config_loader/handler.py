"""config_loader: a config file uploaded to S3 (EventBridge "Object Created", delivered to this
function directly by a rule) → the pipeline configuration in DynamoDB. Any other S3 event type
is skipped, saying why; an event of another shape is rejected (``datalake_shared.event_shapes``).

Thin handler: the event is parsed into a typed S3 event and ``ConfigLoader`` applies the file
whole or rejects it whole. A rejected file is logged with every problem, reported in
``<key>.rejected.txt`` beside it and counted (ConfigRejected), and the invocation succeeds:
retrying cannot fix a file. AWS errors raise, so Lambda's asynchronous retries try again (the
apply is idempotent).
"""

from functools import cache
from typing import Any, Final

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from config_loader.service import COMPONENT, ConfigLoader, LoadOutcome, LoadResult
from config_loader.settings import ConfigLoaderSettings, get_settings
from config_loader.store import S3ConfigObjects
from datalake_shared.cadence_schedules import cadence_schedule_reconciler
from datalake_shared.cdc_streams import cdc_stream_reconciler
from datalake_shared.config_reconcile import ConfigReconciler
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.event_publisher import EventPublisher
from datalake_shared.event_shapes import validated_event
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.redshift_subscriptions import redshift_subscription_reconciler
from datalake_shared.s3_events import S3_OBJECT_EVENT, S3ObjectEvent
from datalake_shared.workbook_catalog import workbook_table_reconciler

APPLIED_METRIC: Final = "ConfigApplied"
REJECTED_METRIC: Final = "ConfigRejected"


@cache
def default_loader() -> ConfigLoader:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    store = PipelineConfigStore(settings.batch_config_table, settings.table_config_table)
    return ConfigLoader(
        objects=S3ConfigObjects(),
        store=store,
        events=EventPublisher(component=COMPONENT, bus_name=settings.event_bus_name),
        writable_databases=settings.writable_databases,
        reconcilers=default_reconcilers(settings, store),
        cdc_source_pattern=settings.cdc_source_table_pattern,
    )


def default_reconcilers(
    settings: ConfigLoaderSettings, store: PipelineConfigStore
) -> list[ConfigReconciler]:
    """The AWS resources a config asks for beyond its tables, each kept by one reconciler
    (built lazily: each makes its clients on first use); the schedules read ``store``'s batch
    configs, the ones the loader has just written."""
    reconcilers: list[ConfigReconciler] = []
    reconcilers.append(cadence_schedule_reconciler(store, settings))
    reconcilers.append(redshift_subscription_reconciler(settings))
    if (cdc_streams := cdc_stream_reconciler(settings)) is not None:
        reconcilers.append(cdc_streams)
    if (workbook_tables := workbook_table_reconciler(settings)) is not None:
        reconcilers.append(workbook_tables)
    return reconcilers


def log_result(result: LoadResult) -> None:
    if result.outcome is LoadOutcome.APPLIED and result.plan is not None:
        metrics.add_metric(name=APPLIED_METRIC, unit=MetricUnit.Count, value=1)
        logger.info("Config applied", extra=result.plan.summary())
        for table in result.plan.deactivated:
            logger.warning(
                "Table moved to another cadence: its old config is deactivated",
                extra={"cadence": table.cadence, "source_table": table.source_table},
            )
        if result.plan.untouched:
            logger.info(
                "Stored tables the file does not mention were left as they are",
                extra={"tables": [f"{t.cadence}/{t.source_table}" for t in result.plan.untouched]},
            )
    elif result.outcome is LoadOutcome.REJECTED:
        metrics.add_metric(name=REJECTED_METRIC, unit=MetricUnit.Count, value=1)
        logger.error(
            "Config rejected; nothing was applied",
            extra={"problems": list(result.problems), "report_key": result.report_key},
        )
    else:
        logger.info("Object ignored", extra={"reason": result.reason})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, loader: ConfigLoader | None = None
) -> dict[str, Any]:
    """``loader`` lets tests inject a ConfigLoader with fakes; Lambda never passes it."""
    s3_event = validated_event(S3ObjectEvent, event, S3_OBJECT_EVENT)
    detail = s3_event.detail
    with logger.append_context_keys(
        bucket=detail.bucket.name, object_key=detail.object.key, version_id=detail.object.version_id
    ):
        if s3_event.created:
            loader = loader or default_loader()
            result = loader.load(detail.bucket.name, detail.object.key, detail.object.size)
        else:
            result = LoadResult(
                LoadOutcome.IGNORED,
                detail.bucket.name,
                detail.object.key,
                detail.object.version_id,
                reason=s3_event.not_created_reason,
            )
        log_result(result)
    return result.summary()
