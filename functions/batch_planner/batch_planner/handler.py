"""batch_planner: the first task of two state machines — which tables to work on now.

Batch dispatch. Input (the schedule's, passed on by the state machine): {"cadence": ...,
"run_id": ...}. Output: the plan the Map iterates over, one Glue job run per batch (see
``PlanOutput``). The cadence's configuration comes from the config tables; the tables with
pending files from one paginated Query of the file tracker's pending-files index.

Iceberg maintenance. Input: {"maintenance": {"run_id": ..., "template_database": ...,
"template_tables": [...]}} (built by the state machine's definition, not by its caller).
Output: the due tables, each with its Athena statements (see maintenance_plan). One function
for both: they read the same config tables with the same model, and a second function would
repeat its role, log group and alarms.

An unknown cadence, an invalid input or a plan too large for Step Functions raises, so the
execution fails visibly.
"""

from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Final, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from batch_planner.maintenance_plan import (
    MaintainedTable,
    MaintenancePlanner,
    MaintenancePlanOutput,
)
from batch_planner.maintenance_store import (
    ConfiguredTables,
    DynamoMaintenanceLog,
    GlueTableCatalog,
)
from batch_planner.service import BatchPlanner, PlanOutput
from batch_planner.settings import get_settings
from batch_planner.store import DynamoPendingTables
from datalake_contracts.table_config import CADENCE_PATTERN, TARGET_NAME_PATTERN
from datalake_shared.cdc_tables import CdcTableStore
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.event_shapes import validated_event
from datalake_shared.observability import logger, metrics, tracer
from datalake_shared.table_maintenance import TableMaintenance

# A Step Functions execution name is 1 to 80 characters.
MAX_RUN_ID_LENGTH: Final = 80


PLAN_REQUEST: Final = 'the dispatch state machine\'s input ({"cadence", "run_id"})'
MAINTENANCE_REQUEST: Final = (
    "the maintenance state machine's input "
    '({"maintenance": {"run_id", "template_database", "template_tables"}})'
)
# The template's Iceberg tables, named by the state machine's definition (a handful).
MAX_TEMPLATE_TABLES: Final = 50


class PlanRequest(BaseModel):
    """The task's input."""

    model_config = ConfigDict(frozen=True)

    # BatchConfig's rule, checked before any configuration is read.
    cadence: str = Field(pattern=CADENCE_PATTERN)
    run_id: str = Field(min_length=1, max_length=MAX_RUN_ID_LENGTH)


TargetName = Annotated[str, Field(pattern=TARGET_NAME_PATTERN)]


class MaintenanceRun(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(min_length=1, max_length=MAX_RUN_ID_LENGTH)
    # The template's own Iceberg tables, in its lake database (default settings unless a config
    # declares them); the definition splits its Tables substitution, so "" is no table.
    template_database: TargetName
    template_tables: list[TargetName | Literal[""]] = Field(
        default_factory=list, max_length=MAX_TEMPLATE_TABLES
    )


class MaintenanceRequest(BaseModel):
    """The maintenance state machine's input to the task."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    maintenance: MaintenanceRun


@cache
def default_maintenance_planner() -> MaintenancePlanner:
    """Built on first use, like ``default_planner``."""
    settings = get_settings()
    configs = PipelineConfigStore(
        batch_table=settings.batch_config_table, table_table=settings.table_config_table
    )
    cdc = CdcTableStore(settings.cdc_table_config_table)
    return MaintenancePlanner(
        tables=ConfiguredTables(configs, cdc, settings.lake_database),
        catalog=GlueTableCatalog(),
        log=DynamoMaintenanceLog(settings.table_maintenance_table),
    )


@cache
def default_planner() -> BatchPlanner:
    """Built on first use, so importing needs neither environment nor AWS; then reused."""
    settings = get_settings()
    return BatchPlanner(
        configs=PipelineConfigStore(
            batch_table=settings.batch_config_table,
            table_table=settings.table_config_table,
        ),
        pending=DynamoPendingTables(settings.file_tracker_table),
        glue_job_name=settings.glue_job_name,
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any],
    context: LambdaContext,
    planner: BatchPlanner | None = None,
    maintenance_planner: MaintenancePlanner | None = None,
) -> PlanOutput | MaintenancePlanOutput:
    """The planners let tests inject fakes; Lambda never passes them."""
    if isinstance(event, dict) and "maintenance" in event:
        return plan_maintenance(event, maintenance_planner)
    return plan_batches(event, planner)


def plan_maintenance(
    event: dict[str, Any], planner: MaintenancePlanner | None = None
) -> MaintenancePlanOutput:
    run = validated_event(MaintenanceRequest, event, MAINTENANCE_REQUEST).maintenance
    planner = planner or default_maintenance_planner()
    template = [
        MaintainedTable(run.template_database, table, TableMaintenance(), "template")
        for table in run.template_tables
        if table
    ]
    with logger.append_context_keys(run_id=run.run_id):
        try:
            output = planner.plan_output(datetime.now(UTC), run.run_id, template)
        except Exception:
            logger.exception("Could not plan the maintenance run; the execution fails")
            raise
        metrics.add_metric(
            name="TablesDueForMaintenance", unit=MetricUnit.Count, value=output["table_count"]
        )
        metrics.add_metric(
            name="TablesRefusedForMaintenance", unit=MetricUnit.Count, value=output["refused_count"]
        )
        if output["refused"]:
            logger.error("Tables refused for maintenance", extra={"refused": output["refused"]})
        logger.info(
            "Maintenance run planned",
            extra={
                "tables": output["table_count"],
                "not_due": output["not_due"],
                "not_created": output["not_created"],
                "deferred": output["deferred"],
            },
        )
    return output


def plan_batches(event: dict[str, Any], planner: BatchPlanner | None = None) -> PlanOutput:
    request = validated_event(PlanRequest, event, PLAN_REQUEST)
    planner = planner or default_planner()
    with logger.append_context_keys(cadence=request.cadence, run_id=request.run_id):
        try:
            output = planner.plan_output(request.cadence, request.run_id)
        except Exception:
            logger.exception("Could not plan the run; the execution fails")
            raise
        metrics.add_dimension(name="cadence", value=request.cadence)
        metrics.add_metric(name="TablesPlanned", unit=MetricUnit.Count, value=output["table_count"])
        metrics.add_metric(
            name="BatchesPlanned", unit=MetricUnit.Count, value=output["batch_count"]
        )
        logger.info(
            "Run planned",
            extra={
                "tables": output["table_count"],
                "batches": output["batch_count"],
                "max_concurrency": output["max_concurrency"],
                "glue_job_name": output["glue_job_name"],
            },
        )
    return output
