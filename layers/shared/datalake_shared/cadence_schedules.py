"""One EventBridge Scheduler schedule per cadence, kept equal to the stored batch configs.

Each cadence stored in BatchConfigTable gets a schedule named after it in the stack's own
schedule group (the template's CadenceScheduleGroup). It starts BatchDispatchStateMachine with
``{"cadence": "<name>"}`` on the batch config's schedule (``BatchConfig.effective_schedule``:
its ``schedule`` or the default of its name), through CadenceScheduleRole, with the retry policy
and dead-letter queue below. The time zone and the state (CadenceSchedulesState) are the stack's.

After a config is applied, ``CadenceScheduleReconciler`` reads ALL stored batch configs, not
only the file's: the store keeps what a file does not mention, so the schedules do too. A
cadence with ``schedule: none`` has its schedule deleted (the way to stop one; its runs can
still be started by hand). Each stored cadence costs one GetSchedule, and a write only where the
schedule differs, so repeating a load changes nothing. Only schedules of the stack's group named
after a stored cadence are ever touched: schedules of other groups, and any other schedule of
this group, are left alone (the loader's role may not list a group: ListSchedules has no
resource-level permission, and the guardrails allow "*" for log delivery only).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal, Protocol

import boto3
from botocore.exceptions import ClientError
from pydantic import Field

from datalake_shared.config_reconcile import Reconciliation
from datalake_shared.pipeline_config import BatchConfig, PipelineConfig
from datalake_shared.settings import EnvSettings

RECONCILER_NAME: Final = "cadence_schedules"
# As the template's schedules had them: a run not started within an hour is skipped, and the
# Scheduler's failed deliveries go to CadenceScheduleDLQ (alarmed).
RETRY_POLICY: Final = {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600}
_NOT_FOUND: Final = "ResourceNotFoundException"
_CONFLICT: Final = "ConflictException"


class CadenceScheduleSettings(EnvSettings):
    """Where the schedules live and what they start (the template sets these on the loader)."""

    cadence_schedule_group: str = Field(alias="CADENCE_SCHEDULE_GROUP", min_length=1)
    batch_dispatch_state_machine_arn: str = Field(
        alias="BATCH_DISPATCH_STATE_MACHINE_ARN", pattern=r"^arn:[^:]+:states:"
    )
    cadence_schedule_role_arn: str = Field(alias="CADENCE_SCHEDULE_ROLE_ARN", min_length=1)
    cadence_schedule_dlq_arn: str = Field(alias="CADENCE_SCHEDULE_DLQ_ARN", min_length=1)
    cadence_schedules_state: Literal["ENABLED", "DISABLED"] = Field(
        default="ENABLED", alias="CADENCE_SCHEDULES_STATE"
    )
    schedule_timezone: str = Field(default="UTC", alias="SCHEDULE_TIMEZONE", min_length=1)


@dataclass(frozen=True, slots=True)
class DesiredSchedule:
    """A schedule as the configuration wants it (the fields UpdateSchedule replaces)."""

    name: str
    expression: str
    timezone: str
    state: str
    target: dict[str, Any]

    def request(self, group: str) -> dict[str, Any]:
        return {
            "Name": self.name,
            "GroupName": group,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "State": self.state,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": self.target,
            "Description": f"Starts the {self.name!r} cadence's batch run (pipeline config)",
        }

    def differs_from(self, current: dict[str, Any]) -> bool:
        """Whether the schedule read (GetSchedule) must be updated to be this one."""
        target = current.get("Target", {})
        return (
            current.get("ScheduleExpression") != self.expression
            or current.get("ScheduleExpressionTimezone", "UTC") != self.timezone
            or current.get("State") != self.state
            or target.get("Arn") != self.target["Arn"]
            or target.get("RoleArn") != self.target["RoleArn"]
            or _json_or_text(target.get("Input", "")) != _json_or_text(self.target["Input"])
            or target.get("RetryPolicy") != self.target["RetryPolicy"]
            or target.get("DeadLetterConfig") != self.target["DeadLetterConfig"]
        )


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


def desired_schedule(
    batch: BatchConfig, settings: CadenceScheduleSettings
) -> DesiredSchedule | None:
    """The schedule a stored batch config asks for; None for ``schedule: none``."""
    expression = batch.effective_schedule
    if expression is None:
        return None
    return DesiredSchedule(
        name=batch.cadence,
        expression=expression,
        timezone=settings.schedule_timezone,
        state=settings.cadence_schedules_state,
        target={
            "Arn": settings.batch_dispatch_state_machine_arn,
            "RoleArn": settings.cadence_schedule_role_arn,
            "Input": json.dumps({"cadence": batch.cadence}),
            "RetryPolicy": dict(RETRY_POLICY),
            "DeadLetterConfig": {"Arn": settings.cadence_schedule_dlq_arn},
        },
    )


class StoredBatchConfigs(Protocol):
    def load_batch_configs(self) -> list[BatchConfig]: ...


class CadenceScheduleStore(Protocol):
    def get(self, name: str) -> dict[str, Any] | None: ...

    def create(self, schedule: DesiredSchedule) -> None: ...

    def update(self, schedule: DesiredSchedule) -> None: ...

    def delete(self, name: str) -> None: ...


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class SchedulerGroup:
    """EventBridge Scheduler adapter for one schedule group; the client is built on first use."""

    def __init__(self, group: str, client: Any = None) -> None:
        self.group = group
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("scheduler")

    def get(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.client.get_schedule(GroupName=self.group, Name=name)
        except ClientError as error:
            if _code(error) == _NOT_FOUND:
                return None
            raise
        return found

    def create(self, schedule: DesiredSchedule) -> None:
        try:
            self.client.create_schedule(**schedule.request(self.group))
        except ClientError as error:
            if _code(error) != _CONFLICT:
                raise
            # Created meanwhile (a concurrent load): make it this one.
            self.update(schedule)

    def update(self, schedule: DesiredSchedule) -> None:
        self.client.update_schedule(**schedule.request(self.group))

    def delete(self, name: str) -> None:
        try:
            self.client.delete_schedule(GroupName=self.group, Name=name)
        except ClientError as error:
            if _code(error) != _NOT_FOUND:  # already gone: what was asked
                raise


class CadenceScheduleReconciler:
    """A ``ConfigReconciler``: the stack's cadence schedules equal the stored batch configs."""

    name = RECONCILER_NAME

    def __init__(
        self,
        batches: StoredBatchConfigs,
        schedules: CadenceScheduleStore,
        settings: CadenceScheduleSettings,
    ) -> None:
        self.batches = batches
        self.schedules = schedules
        self.settings = settings

    def problems(self, config: PipelineConfig) -> list[str]:
        """None beyond the file's own validation (each schedule expression is checked there)."""
        return []

    def reconcile(self, config: PipelineConfig) -> Reconciliation:
        """``config`` (the file just applied) is already among the stored batch configs."""
        return self.reconcile_batches(self.batches.load_batch_configs())

    def reconcile_batches(self, batches: Iterable[BatchConfig]) -> Reconciliation:
        created: list[str] = []
        updated: list[str] = []
        removed: list[str] = []
        unchanged: list[str] = []
        for batch in batches:
            desired = desired_schedule(batch, self.settings)
            current = self.schedules.get(batch.cadence)
            if desired is None:
                if current is not None:
                    self.schedules.delete(batch.cadence)
                    removed.append(batch.cadence)
            elif current is None:
                self.schedules.create(desired)
                created.append(batch.cadence)
            elif desired.differs_from(current):
                self.schedules.update(desired)
                updated.append(batch.cadence)
            else:
                unchanged.append(batch.cadence)
        return Reconciliation(
            created=tuple(created),
            updated=tuple(updated),
            removed=tuple(removed),
            unchanged=tuple(unchanged),
        )


def cadence_schedule_reconciler(
    batches: StoredBatchConfigs, settings: CadenceScheduleSettings, client: Any = None
) -> CadenceScheduleReconciler:
    """The reconciler over the settings' group (its Scheduler client built on first use)."""
    return CadenceScheduleReconciler(
        batches, SchedulerGroup(settings.cadence_schedule_group, client), settings
    )


def schedule_rows(batches: Sequence[BatchConfig]) -> list[tuple[str, str]]:
    """(cadence, what starts it) for printing a config."""
    return [(b.cadence, b.effective_schedule or "none (started by hand)") for b in batches]
