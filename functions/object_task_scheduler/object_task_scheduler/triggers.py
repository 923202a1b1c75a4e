"""What delivers a task's message to the task queue when it is due: an SQS message sent now
with a delay (due within 15 minutes), or an EventBridge Scheduler one-time schedule named after
the task, deleted by Scheduler once it has run."""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError

from datalake_shared.object_tasks import ObjectTask, TaskMessage
from object_task_scheduler.planning import ScheduleAt, SendNow, Trigger, schedule_description

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# A schedule's target is retried for a day (Scheduler's maxima), then its event goes to the
# schedule DLQ; the item's TTL fallback re-runs the task after the grace period either way.
RETRY_POLICY: Final = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
_CONFLICT: Final = "ConflictException"


@dataclass(frozen=True, slots=True)
class ScheduleTarget:
    """Where schedules go: their group, the task queue, the role Scheduler sends as, its DLQ."""

    group: str
    queue_arn: str
    role_arn: str
    dlq_arn: str


def message_body(task: ObjectTask) -> str:
    return TaskMessage(task_id=task.task_id).body()


def schedule_request(task: ObjectTask, at: ScheduleAt, target: ScheduleTarget) -> dict[str, Any]:
    """The CreateSchedule parameters of a task's one-time schedule."""
    return {
        "Name": task.task_id,
        "GroupName": target.group,
        "ScheduleExpression": at.expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Description": schedule_description(task),
        "Target": {
            "Arn": target.queue_arn,
            "RoleArn": target.role_arn,
            "Input": message_body(task),
            "RetryPolicy": dict(RETRY_POLICY),
            "DeadLetterConfig": {"Arn": target.dlq_arn},
        },
    }


class QueueAndSchedulerTriggers:
    def __init__(
        self,
        queue_url: str,
        target: ScheduleTarget,
        sqs: "SQSClient | None" = None,
        scheduler: Any = None,
    ) -> None:
        self.queue_url = queue_url
        self.target = target
        self._sqs = sqs
        self._scheduler = scheduler

    @cached_property
    def sqs(self) -> "SQSClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._sqs or boto3.client("sqs")

    @cached_property
    def scheduler(self) -> Any:
        # Typed Any: mypy-boto3-scheduler is not among the dev dependencies.
        return self._scheduler or boto3.client("scheduler")

    def ensure(self, task: ObjectTask, trigger: Trigger) -> bool:
        """Sends or schedules; False when the schedule already existed (a redelivery)."""
        if isinstance(trigger, SendNow):
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=message_body(task),
                DelaySeconds=trigger.delay_seconds,
            )
            return True
        try:
            self.scheduler.create_schedule(**schedule_request(task, trigger, self.target))
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) == _CONFLICT:
                return False
            raise
        return True
