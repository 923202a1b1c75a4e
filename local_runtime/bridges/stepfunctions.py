"""Step Functions: moto runs the ASL for real; we make `.sync` Glue tasks work and compress time.

- moto's shared callback code dereferences a wait-for-task-token endpoint that `.sync` tasks
  never have, so every `glue:startJobRun.sync` fails there. We evaluate the `.sync` pattern with
  moto's own Glue resolver (StartJobRun output → GetJobRun until the run is terminal).
- Retry intervals and Wait states are real sleeps in moto; locally we record the wait and sleep
  a hundredth of it (at most 0.5 s), so a 30 s backoff or poll interval does not make the demo
  wait 30 s.
- ``pump`` reports work while an execution of the stack is still running, so ``settle`` waits
  for executions that moto runs in their own threads.
"""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_glue,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

from local_runtime.bridges import RuntimeServices
from local_runtime.kept_logs import keep_log
from local_runtime.service_events import execution_status_change

# Local time runs 100x faster, at most half a second per wait: a 30 s backoff takes 0.3 s, still
# long enough for what it waits on (a Glue run holding the only slot) to finish locally.
_TIME_SCALE = 0.01
_MAX_LOCAL_SLEEP_S = 0.5
_POLL_S = 0.01


@dataclass(frozen=True)
class Execution:
    state_machine: str
    name: str
    arn: str


class _CompressedTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __init__(self, waits: list[float]) -> None:
        self.waits = waits

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds * _TIME_SCALE, _MAX_LOCAL_SLEEP_S))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def _glue_sync(
    task: Any,
    env: Any,
    resource_runtime_part: Any,
    normalised_parameters: dict[str, Any],
    state_credentials: Any,
) -> None:
    resolve = task._build_sync_resolver(
        env=env,
        resource_runtime_part=resource_runtime_part,
        normalised_parameters=normalised_parameters,
        state_credentials=state_credentials,
    )
    result = resolve()
    while result is None and env.is_running():
        time.sleep(_POLL_S)
        result = resolve()
    env.stack.append(result)


def _compressed_wait(waits: list[float]) -> Callable[[Any, Any, int], None]:
    """Stands in for ``WaitFunction._wait_interval``: records the wait, sleeps a fraction."""

    def wait_interval(_function: Any, env: Any, wait_seconds: int) -> None:
        waits.append(float(wait_seconds))
        if wait_seconds > 0:
            env.program_state_event.wait(min(wait_seconds * _TIME_SCALE, _MAX_LOCAL_SLEEP_S))

    return wait_interval


class StepFunctionsBridge:
    def __init__(self) -> None:
        self.retry_waits: list[float] = []
        self.state_waits: list[float] = []
        self.started: list[Execution] = []
        self._running: list[Execution] = []
        self.interpreter_log: list[str] = []
        self._restore_log: Callable[[], None] | None = None
        self._services: RuntimeServices | None = None
        self._saved: list[tuple[Any, str, Any]] = []

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        glue_task = state_task_service_glue.StateTaskServiceGlue
        self._patch(glue_task, "_eval_integration_pattern", _glue_sync)
        self._patch(retrier_decl, "time", _CompressedTime(self.retry_waits))
        self._patch(
            wait_function.WaitFunction, "_wait_interval", _compressed_wait(self.state_waits)
        )
        # moto logs every failed state at ERROR level; a failure is data here (the execution's
        # status and history say it), so keep those lines instead of printing them.
        self._restore_log = keep_log("moto.stepfunctions.parser", self.interpreter_log)

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def uninstall(self) -> None:
        if self._restore_log is not None:
            self._restore_log()
            self._restore_log = None
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def start(self, state_machine_arn: str, payload: str, name: str) -> str:
        assert self._services is not None
        client = self._services.session.client("stepfunctions")
        arn: str = client.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=payload
        )["executionArn"]
        self.started.append(Execution(state_machine_arn, name, arn))
        self._running.append(self.started[-1])
        return arn

    def route(
        self, services: RuntimeServices, target: dict[str, Any], payload: Any, via: str
    ) -> None:
        """EventBridge → Step Functions target: starts an execution, named as EventBridge does
        (a unique id), with the rendered event as its input."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        arn = self.start(target["Arn"], body, name=str(uuid.uuid4()))
        services.activity.notes.append(f"{via} started execution {arn.rsplit(':', 1)[-1]}")

    def pump(self) -> int:
        """1 while an execution this runtime started is still running (in a moto thread)."""
        assert self._services is not None
        client = self._services.session.client("stepfunctions")
        while self._running:
            execution = client.describe_execution(executionArn=self._running[0].arn)
            if execution["status"] == "RUNNING":
                time.sleep(_POLL_S)
                return 1
            self._running.pop(0)  # finished ones are not asked about again
            # Step Functions' own status-change event, as AWS puts it on the default bus.
            execution_status_change(self._services.session, dict(execution))
            return 1
        return 0

    def describe(self, execution_arn: str) -> dict[str, Any]:
        assert self._services is not None
        client = self._services.session.client("stepfunctions")
        return dict(client.describe_execution(executionArn=execution_arn))
