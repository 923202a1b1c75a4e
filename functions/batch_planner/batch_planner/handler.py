"""batch_planner: the state machine's first task — which tables to merge now, in which batches.

Input (the schedule's, passed on by the state machine): {"cadence": ..., "run_id": ...}.
Output: the plan the Map iterates over, one Glue job run per batch (see ``PlanOutput``). The
cadence's configuration comes from the config tables; the tables with pending files from one
paginated Query of the file tracker's pending-files index. An unknown cadence, an invalid input
or a plan too large for Step Functions raises, so the execution fails visibly.
"""

from functools import cache
from typing import Any, Final

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from batch_planner.service import BatchPlanner, PlanOutput
from batch_planner.settings import get_settings
from batch_planner.store import DynamoPendingTables
from datalake_contracts.table_config import CADENCE_PATTERN
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.event_shapes import validated_event
from datalake_shared.observability import logger, metrics, tracer

# A Step Functions execution name is 1 to 80 characters.
MAX_RUN_ID_LENGTH: Final = 80


PLAN_REQUEST: Final = 'the dispatch state machine\'s input ({"cadence", "run_id"})'


class PlanRequest(BaseModel):
    """The task's input."""

    model_config = ConfigDict(frozen=True)

    # BatchConfig's rule, checked before any configuration is read.
    cadence: str = Field(pattern=CADENCE_PATTERN)
    run_id: str = Field(min_length=1, max_length=MAX_RUN_ID_LENGTH)


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
    event: dict[str, Any], context: LambdaContext, planner: BatchPlanner | None = None
) -> PlanOutput:
    """``planner`` lets tests inject a BatchPlanner with fakes; Lambda never passes it."""
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
