"""EventBridge Scheduler: nothing ticks locally, so a recurring schedule fires on demand
(``LocalRuntime.fire_schedule``), the way its next tick would: the target gets its Input.

One-time schedules (``at(...)``) created through the Scheduler API fire by themselves once
their time has come, on the bridge's clock: the real time plus an offset that
``LocalRuntime.advance_clock`` moves forward (the demo compresses 30 days into a call). A fired
one-time schedule whose ActionAfterCompletion is DELETE is deleted, as on AWS; one kept is never
fired twice. Targets: Step Functions state machines and SQS queues.

Two kinds of schedules fire: the template's (moto's CloudFormation does not create them, so the
runtime keeps their definitions, by logical id) and those created through the Scheduler API in
moto while the runtime runs (e.g. the config loader's cadence schedules, by name, or
``<group>/<name>``), read from moto when fired, so a schedule updated or deleted since is fired
as it is now, or not at all.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.stepfunctions import StepFunctionsBridge
from local_runtime.emulated import Schedule
from local_runtime.intrinsics import ACCOUNT_ID
from local_runtime.moto_adapter.services import scheduler_schedules, send_to_queue

_ONE_TIME: Final = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


class ScheduleDisabledError(RuntimeError):
    """The schedule's State is DISABLED: on AWS it would not fire."""


class SchedulerBridge:
    def __init__(self, stepfunctions: StepFunctionsBridge) -> None:
        self.stepfunctions = stepfunctions
        self.schedules: dict[str, Schedule] = {}
        self.fired: list[tuple[str, str]] = []  # (schedule, execution or queue ARN)
        self.clock_offset = timedelta(0)
        self._fired_once: set[tuple[str, str]] = set()  # (<group>/<name>, expression)
        self._services: RuntimeServices | None = None

    def install(self, services: RuntimeServices) -> None:
        self._services = services

    def use(self, schedules: dict[str, Schedule]) -> None:
        self.schedules = dict(schedules)

    def uninstall(self) -> None:
        self.schedules.clear()

    def pump(self) -> int:
        """Fires the one-time schedules due by the bridge's clock (recurring ones fire when
        asked to)."""
        return len(self.fire_due())

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def advance_clock(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.clock_offset += delta

    def fire_due(self) -> list[str]:
        """Fires every one-time schedule of the Scheduler API whose time has come; returns
        what each started or sent to."""
        if self._services is None:
            return []
        now = self.now()
        due: list[tuple[Any, datetime]] = []
        for found in scheduler_schedules(ACCOUNT_ID, self._services.session.region_name):
            at = _one_time_due(found.schedule_expression, found.schedule_expression_timezone)
            key = (f"{found.group_name}/{found.name}", found.schedule_expression)
            if at is None or at > now or key in self._fired_once or found.state != "ENABLED":
                continue
            self._fired_once.add(key)
            due.append((found, at))
        if not due:
            return []
        client: Any = self._services.session.client("scheduler")
        started: list[str] = []
        for found, at in due:
            schedule = Schedule(
                logical_id=found.name,
                expression=found.schedule_expression,
                enabled=True,
                target_arn=found.target["Arn"],
                input=found.target.get("Input", "{}"),
            )
            started.append(self._deliver(schedule, at))
            if found.action_after_completion == "DELETE":
                client.delete_schedule(GroupName=found.group_name, Name=found.name)
        return started

    def fire(self, schedule: str, at: datetime | None = None) -> str:
        """Fires a schedule: of the template by logical id (or its end, e.g.
        "IcebergMaintenanceStateMachineNightly"), or of the Scheduler API by name ("hourly")
        or ``<group>/<name>``."""
        found = self._find(schedule)
        if not found.enabled:
            raise ScheduleDisabledError(f"{found.logical_id} is DISABLED")
        return self._deliver(found, at or datetime.now(UTC))

    def _deliver(self, schedule: Schedule, at: datetime) -> str:
        """The schedule's target gets its Input: an execution started, or a message sent."""
        if ":states:" in schedule.target_arn:
            when = at.strftime("%Y%m%dT%H%M%SZ")
            name = f"{schedule.logical_id}-{when}-{len(self.fired) + 1}"
            arn = self.stepfunctions.start(schedule.target_arn, schedule.input, name)
        elif ":sqs:" in schedule.target_arn:
            send_to_queue(schedule.target_arn, schedule.input)
            arn = schedule.target_arn
        else:
            raise NotImplementedError(
                f"{schedule.logical_id}: only Step Functions and SQS targets so far"
            )
        self.fired.append((schedule.logical_id, arn))
        assert self._services is not None
        self._services.activity.route(
            f"schedule {schedule.logical_id}", schedule.target_arn, _json(schedule.input)
        )
        return arn

    def api_schedules(self) -> dict[str, Schedule]:
        """The schedules created through the Scheduler API, by ``<group>/<name>``."""
        if self._services is None:
            return {}
        client: Any = self._services.session.client("scheduler")
        found: dict[str, Schedule] = {}
        for page in client.get_paginator("list_schedules").paginate():
            for summary in page["Schedules"]:
                group, name = summary["GroupName"], summary["Name"]
                detail = client.get_schedule(GroupName=group, Name=name)
                found[f"{group}/{name}"] = Schedule(
                    logical_id=name,
                    expression=detail["ScheduleExpression"],
                    enabled=detail.get("State", "ENABLED") == "ENABLED",
                    target_arn=detail["Target"]["Arn"],
                    input=detail["Target"].get("Input", "{}"),
                )
        return found

    def _find(self, schedule: str) -> Schedule:
        api = self.api_schedules()
        exact = [s for key, s in api.items() if schedule in {key, s.logical_id}]
        if len(exact) == 1:
            return exact[0]
        matches = exact or [
            s for name, s in self.schedules.items() if name == schedule or name.endswith(schedule)
        ]
        if len(matches) != 1:
            known = sorted([*self.schedules, *api])
            raise KeyError(f"no single schedule named {schedule!r} (have {known})")
        return matches[0]


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {"input": value}


def _one_time_due(expression: str, timezone: str | None) -> datetime | None:
    """When a one-time schedule is due; None for a recurring one."""
    match = _ONE_TIME.match(expression)
    if match is None:
        return None
    zone = ZoneInfo(timezone or "UTC")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=zone).astimezone(UTC)
