"""Bridges carry events where moto, in-process, does not.

Each bridge is installed once per runtime and then ``pump``-ed: it does whatever work is due
(poll a queue, deliver an async invocation...) and returns how many units of work it did, so
``LocalRuntime.settle`` can run the event graph until it is quiet. A later capability adds a
bridge (a DynamoDB stream poller, SNS → Lambda, schedules, Step Functions ``.sync``...) or a
target route for EventBridge, without changing the runtime.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import boto3

    from local_runtime.activity import ActivityLog
    from local_runtime.deploy import DeployedStack
    from local_runtime.functions import FunctionRunner
    from local_runtime.template import TranslatedTemplate


class AsyncInvoker(Protocol):
    def submit(self, function: str, event: dict[str, Any], trigger: str) -> None: ...


@dataclass
class RuntimeServices:
    """What bridges may use: the deployed stack, AWS (moto) clients, the function runner."""

    session: "boto3.session.Session"
    runner: "FunctionRunner"
    activity: "ActivityLog"
    stack: "DeployedStack"
    template: "TranslatedTemplate"
    async_invoker: AsyncInvoker
    # Local state that outlives an invocation (e.g. the DuckDB lake of local Glue runs).
    workdir: Path

    def logical_id(self, physical_id: str) -> str:
        return self.stack.logical_id(physical_id)


class Bridge(Protocol):
    def install(self, services: RuntimeServices) -> None: ...

    def pump(self) -> int: ...

    def uninstall(self) -> None: ...
