"""EventBridge Scheduler: nothing ticks locally, so a schedule fires on demand
(``LocalRuntime.fire_schedule``), the way its next tick would: the target gets its Input.

Two kinds of schedules fire: the template's (moto's CloudFormation does not create them, so the
runtime keeps their definitions, by logical id) and those created through the Scheduler API in
moto while the runtime runs (e.g. the config loader's cadence schedules, by name, or
``<group>/<name>``), read from moto when fired, so a schedule updated or deleted since is fired
as it is now, or not at all.
"""

import json
from datetime import UTC, datetime
from typing import Any

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.stepfunctions import StepFunctionsBridge
from local_runtime.emulated import Schedule


class ScheduleDisabledError(RuntimeError):
    """The schedule's State is DISABLED: on AWS it would not fire."""


class SchedulerBridge:
    def __init__(self, stepfunctions: StepFunctionsBridge) -> None:
        self.stepfunctions = stepfunctions
        self.schedules: dict[str, Schedule] = {}
        self.fired: list[tuple[str, str]] = []  # (schedule, execution ARN)
        self._services: RuntimeServices | None = None

    def install(self, services: RuntimeServices) -> None:
        self._services = services

    def use(self, schedules: dict[str, Schedule]) -> None:
        self.schedules = dict(schedules)

    def uninstall(self) -> None:
        self.schedules.clear()

    def pump(self) -> int:
        return 0  # schedules fire when asked to

    def fire(self, schedule: str, at: datetime | None = None) -> str:
        """Fires a schedule: of the template by logical id (or its end, e.g.
        "IcebergMaintenanceStateMachineNightly"), or of the Scheduler API by name ("hourly")
        or ``<group>/<name>``."""
        found = self._find(schedule)
        if not found.enabled:
            raise ScheduleDisabledError(f"{found.logical_id} is DISABLED")
        if ":states:" not in found.target_arn:
            raise NotImplementedError(f"{found.logical_id}: only Step Functions targets so far")
        when = (at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        name = f"{found.logical_id}-{when}-{len(self.fired) + 1}"
        arn = self.stepfunctions.start(found.target_arn, found.input, name)
        self.fired.append((found.logical_id, arn))
        assert self._services is not None
        self._services.activity.route(
            f"schedule {found.logical_id}", found.target_arn, _json(found.input)
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
