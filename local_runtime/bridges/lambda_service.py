"""Lambda in-process: moto's Invoke API runs our handler, and async invocations are queued.

moto's simple Lambda backend (``use_docker: False``) answers Invoke with a canned payload; we
patch it so that an Invoke of a function deployed from the template runs its handler here.
Asynchronous invocations (InvocationType=Event, EventBridge and S3 targets) go through a queue
with Lambda's retry policy: the first attempt plus two retries.
"""

import json
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.sns import send_to_destination
from local_runtime.emulated import InvokeConfig
from local_runtime.functions import Invocation
from local_runtime.moto_adapter.hooks import LAMBDA_INVOKE, Patches

# Lambda's default MaximumRetryAttempts for asynchronous invocations.
ASYNC_RETRY_ATTEMPTS = 2


@dataclass
class _PendingInvocation:
    function: str
    event: dict[str, Any]
    trigger: str
    attempts: int = 0


class LambdaBridge:
    def __init__(self) -> None:
        self._services: RuntimeServices | None = None
        self._patches = Patches()
        self._pending: deque[_PendingInvocation] = deque()
        self.failed_async: list[Invocation] = []
        self._invoke_configs: dict[str, InvokeConfig] = {}

    def use(self, invoke_configs: dict[str, InvokeConfig]) -> None:
        """The template's EventInvokeConfig per function name: retries and OnFailure."""
        self._invoke_configs = dict(invoke_configs)

    # ------------------------------------------------------------------ Bridge
    def install(self, services: RuntimeServices) -> None:
        self._services = services
        bridge = self

        def invoke(  # noqa: PLR0917 - moto calls it positionally
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> str | bytes | None:
            return bridge._invoke_api(function_name, body, headers, response_headers)

        self._patches.replace(LAMBDA_INVOKE, invoke)

    def uninstall(self) -> None:
        self._patches.restore()
        self._pending.clear()

    def pump(self) -> int:
        done = 0
        for _ in range(len(self._pending)):
            pending = self._pending.popleft()
            pending.attempts += 1
            try:
                invocation = self._runner.invoke(pending.function, pending.event, pending.trigger)
            except KeyError as error:  # not a function of this stack: nothing to retry
                self._activity.cannot_route(
                    pending.trigger, pending.function, pending.event, str(error)
                )
                done += 1
                continue
            done += 1
            if invocation.ok:
                continue
            config = self._invoke_configs.get(self._runner.find(pending.function).name)
            retries = config.maximum_retry_attempts if config else ASYNC_RETRY_ATTEMPTS
            if pending.attempts <= retries:
                self._pending.append(pending)
            else:
                self.failed_async.append(invocation)
                if config and config.on_failure:
                    self._deliver_failure(config.on_failure, pending, invocation)
                self._activity.notes.append(
                    f"async invoke of {invocation.function} failed {pending.attempts} times: "
                    f"{invocation.error}"
                )
        return done

    def _deliver_failure(
        self, destination: str, pending: _PendingInvocation, invocation: Invocation
    ) -> None:
        """The record Lambda sends to an OnFailure destination (SQS, SNS or Lambda)."""
        function = self._runner.find(pending.function)
        error_type, _, message = (invocation.error or "").partition(": ")
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{function.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": pending.attempts,
            },
            "requestPayload": pending.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorType": error_type, "errorMessage": message},
        }
        assert self._services is not None
        # SQS queue, SNS topic or function; recorded in the activity log either way.
        send_to_destination(
            self._services, destination, record, f"OnFailure of {invocation.function}"
        )

    # ------------------------------------------------------------------ async
    def submit(self, function: str, event: dict[str, Any], trigger: str) -> None:
        self._pending.append(_PendingInvocation(function, event, trigger))

    @property
    def _activity(self) -> Any:
        assert self._services is not None, "LambdaBridge used before install()"
        return self._services.activity

    @property
    def _runner(self) -> Any:
        assert self._services is not None, "LambdaBridge used before install()"
        return self._services.runner

    def _invoke_api(
        self, function_name: str, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        event = json.loads(body) if body else {}
        invocation_type = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type == "DryRun":
            self._runner.find(function_name)  # validates the name, runs nothing
            return b""
        if invocation_type == "Event":
            self.submit(function_name, event, trigger="Invoke (Event)")
            return b""
        invocation = self._runner.invoke(function_name, event, trigger="Invoke")
        if not invocation.ok:
            response_headers["x-amz-function-error"] = "Unhandled"
            error_type, _, message = (invocation.error or "").partition(": ")
            return json.dumps({"errorType": error_type, "errorMessage": message}).encode()
        return json.dumps(invocation.response).encode()
