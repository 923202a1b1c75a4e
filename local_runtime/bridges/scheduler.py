"""EventBridge Scheduler: moto's CloudFormation does not create schedules, so the runtime keeps
the template's definitions and fires one on demand (``LocalRuntime.fire_schedule``), the way
its next tick would: the target gets the schedule's Input."""

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
        """Fires a schedule by logical id (or the end of one, e.g. "HourlyCadence")."""
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

    def _find(self, schedule: str) -> Schedule:
        matches = [
            s for name, s in self.schedules.items() if name == schedule or name.endswith(schedule)
        ]
        if len(matches) != 1:
            raise KeyError(f"no single schedule named {schedule!r} (have {sorted(self.schedules)})")
        return matches[0]


def _json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {"input": value}
