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

from local_runtime.bridges import RuntimeServices
from local_runtime.kept_logs import keep_log
from local_runtime.moto_adapter.hooks import Patches
from local_runtime.moto_adapter.stepfunctions import (
    INTERPRETER_LOGGER,
    compress_retry_sleeps,
    compress_state_waits,
    sync_glue_tasks,
)
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


def _local_sleep(seconds: float) -> float:
    return min(seconds * _TIME_SCALE, _MAX_LOCAL_SLEEP_S)


class StepFunctionsBridge:
    def __init__(self) -> None:
        self.retry_waits: list[float] = []
        self.state_waits: list[float] = []
        self.started: list[Execution] = []
        self._running: list[Execution] = []
        self.interpreter_log: list[str] = []
        self._restore_log: Callable[[], None] | None = None
        self._services: RuntimeServices | None = None
        self._patches = Patches()

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        sync_glue_tasks(self._patches, _POLL_S)
        compress_retry_sleeps(self._patches, self.retry_waits, _local_sleep)
        compress_state_waits(self._patches, self.state_waits, _local_sleep)
        # moto logs every failed state at ERROR level; a failure is data here (the execution's
        # status and history say it), so keep those lines instead of printing them.
        self._restore_log = keep_log(INTERPRETER_LOGGER, self.interpreter_log)

    def uninstall(self) -> None:
        if self._restore_log is not None:
            self._restore_log()
            self._restore_log = None
        self._patches.restore()

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
