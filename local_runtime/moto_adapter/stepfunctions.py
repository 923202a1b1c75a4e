"""moto's Step Functions interpreter, where the local runtime changes it.

- `.sync` Glue tasks: moto's shared callback code waits on a task-token endpoint `.sync` tasks
  never have; ``sync_glue_tasks`` evaluates the pattern with moto's own Glue resolver instead.
- Time: retry intervals and Wait states are real sleeps in moto; ``compress_retry_sleeps`` and
  ``compress_state_waits`` record each wait and sleep what the caller's ``local_sleep`` says.
- aws-sdk tasks: ``convert_sdk_output`` rewrites one service's task output, and
  ``name_sdk_errors`` names that service's errors as Step Functions does.
"""

import time
from collections.abc import Callable
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_glue,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

from local_runtime.moto_adapter.hooks import Hook, Patches

INTERPRETER_LOGGER = "moto.stepfunctions.parser"  # logs every failed state at ERROR level
_GLUE_SYNC = Hook(state_task_service_glue.StateTaskServiceGlue, "_eval_integration_pattern")
_RETRY_CLOCK = Hook(retrier_decl, "time")
_WAIT_INTERVAL = Hook(wait_function.WaitFunction, "_wait_interval")
_SDK_SERVICE_TASK = Hook(state_task_service_aws_sdk.StateTaskServiceAwsSdk, "_eval_service_task")


def wait_for_sync_result(env: Any, resolve: Callable[[], Any], poll_s: float) -> None:
    """Calls ``resolve`` until it returns a result (or the execution stops); pushes the result
    on the interpreter's stack, as a `.sync` task's output."""
    result = resolve()
    while result is None and env.is_running():
        time.sleep(poll_s)
        result = resolve()
    env.stack.append(result)


def sync_glue_tasks(patches: Patches, poll_s: float) -> None:
    """`glue:startJobRun.sync`: StartJobRun's output, then GetJobRun until the run is terminal."""

    def glue_sync(
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
        wait_for_sync_result(env, resolve, poll_s)

    patches.replace(_GLUE_SYNC, glue_sync)


class _CompressedTime:
    """Stands in for the ``time`` module inside moto's retrier."""

    def __init__(self, waits: list[float], local_sleep: Callable[[float], float]) -> None:
        self.waits = waits
        self.local_sleep = local_sleep

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(self.local_sleep(seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def compress_retry_sleeps(
    patches: Patches, waits: list[float], local_sleep: Callable[[float], float]
) -> None:
    """Retry intervals: each is appended to ``waits``, and ``local_sleep(seconds)`` is slept."""
    patches.replace(_RETRY_CLOCK, _CompressedTime(waits, local_sleep))


def compress_state_waits(
    patches: Patches, waits: list[float], local_sleep: Callable[[float], float]
) -> None:
    """Wait states: each is appended to ``waits``; ``local_sleep(seconds)`` is waited, or less
    when the execution is stopped meanwhile."""

    def wait_interval(_function: Any, env: Any, wait_seconds: int) -> None:
        waits.append(float(wait_seconds))
        if wait_seconds > 0:
            env.program_state_event.wait(local_sleep(wait_seconds))

    patches.replace(_WAIT_INTERVAL, wait_interval)


def convert_sdk_output(patches: Patches, api_name: str, convert: Callable[[Any], Any]) -> None:
    """The output of ``aws-sdk:<api_name>:*`` tasks passed through ``convert``."""
    original: Callable[..., None] = _SDK_SERVICE_TASK.current()

    def eval_service_task(
        task: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        original(task, env, resource_runtime_part, normalised_parameters, state_credentials)
        if str(getattr(task.resource, "api_name", "")).lower() == api_name:
            env.stack.append(convert(env.stack.pop()))

    patches.replace(_SDK_SERVICE_TASK, eval_service_task)


def name_sdk_errors(patches: Patches, api_name: str, service_name: str) -> None:
    """Errors of ``aws-sdk:<api_name>:*`` tasks named ``<service_name>.<Exception>``: moto names
    them "<api name>.<exception>", and its table of proper names has DynamoDb and Sfn only."""
    patches.set_item(state_task_service_aws_sdk._SERVICE_ERROR_NAMES, api_name, service_name)
