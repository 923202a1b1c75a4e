"""object_task_scheduler settings: validated once from the environment the template sets."""

from functools import cache
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from datalake_shared.object_tasks import ObjectTaskRule, parse_rules
from datalake_shared.settings import EnvSettings, load_settings

# An ARN as a target or a dead-letter queue takes it; the service is checked by AWS.
_ARN = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$"
# EventBridge Scheduler's schedule group names.
_GROUP_NAME = r"^[0-9a-zA-Z._-]{1,64}$"


def _rules(value: Any) -> Any:
    # parse_rules names the bad rule (its index and field) in its RulesError (a ValueError),
    # which pydantic reports under OBJECT_TASK_RULES.
    return parse_rules(value) if isinstance(value, str) else value


class ObjectTaskSchedulerSettings(EnvSettings):
    object_task_table: str = Field(alias="OBJECT_TASK_TABLE", min_length=1)
    object_task_rules: Annotated[tuple[ObjectTaskRule, ...], BeforeValidator(_rules)] = Field(
        alias="OBJECT_TASK_RULES"
    )
    task_queue_arn: str = Field(alias="TASK_QUEUE_ARN", pattern=_ARN)
    task_queue_url: str = Field(alias="TASK_QUEUE_URL", pattern=r"^https?://\S+$")
    schedule_group: str = Field(alias="SCHEDULE_GROUP", pattern=_GROUP_NAME)
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", pattern=_ARN)
    schedule_dlq_arn: str = Field(alias="SCHEDULE_DLQ_ARN", pattern=_ARN)
    # How long after its due time a still-scheduled task's item expires, re-running it through
    # the table's stream (the fallback for a schedule that never delivered).
    fallback_grace_hours: float = Field(default=24, alias="FALLBACK_GRACE_HOURS", gt=0, le=8760)


@cache
def get_settings() -> ObjectTaskSchedulerSettings:
    return load_settings(ObjectTaskSchedulerSettings)
