"""The Athena integration moto's Step Functions interpreter lacks.

``athena_tasks`` makes ``arn:aws:states:::athena:*`` tasks work (request-response, and
``startQueryExecution.sync``: StartQueryExecution, then GetQueryExecution until the query is
terminal); the Athena bridge installs it for as long as it is installed.
"""

import datetime
from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from local_runtime.moto_adapter.hooks import Hook, Patches
from local_runtime.moto_adapter.stepfunctions import wait_for_sync_result

_TERMINAL: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_POLL_S: Final = 0.01
_EventDetails: Any = EventDetails  # a TypedDict whose keys are all required in moto's stubs
_SERVICE_FOR: Final = Hook(state_task_factory, "state_task_service_for")
_SUPPORTED_PARAMETERS: Final[dict[str, set[str]]] = {
    "startqueryexecution": {
        "ClientRequestToken",
        "ExecutionParameters",
        "QueryExecutionContext",
        "QueryString",
        "ResultConfiguration",
        "ResultReuseConfiguration",
        "WorkGroup",
    },
    "stopqueryexecution": {"QueryExecutionId"},
    "getqueryexecution": {"QueryExecutionId"},
    "getqueryresults": {"MaxResults", "NextToken", "QueryExecutionId"},
}


def _json_safe(value: Any) -> Any:
    """A boto3 response as Step Functions passes it on (timestamps as epoch milliseconds)."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


class StateTaskServiceAthena(StateTaskServiceCallback):
    """The Athena optimized integration: request-response and ``.sync`` (startQueryExecution)."""

    def __init__(self) -> None:
        patterns: Any = {ResourceCondition.Sync}
        super().__init__(supported_integration_patterns=patterns)

    def _get_supported_parameters(self) -> set[str] | None:
        return _SUPPORTED_PARAMETERS.get(self.resource.api_action.lower())

    def _validate_service_integration_is_supported(self) -> None:
        if self._get_supported_parameters() is None:
            raise ValueError(
                f"The resource provided {self.resource.resource_arn} not recognized. The value is "
                "not a valid resource ARN, or the resource is not available in this region."
            )
        condition = self.resource.condition
        if condition is not None and (
            condition != ResourceCondition.Sync
            or self.resource.api_action.lower() != "startqueryexecution"
        ):
            raise ValueError(f"Unsupported integration pattern in {self.resource.resource_arn}")

    def _client(self, resource_runtime_part: Any, state_credentials: Any) -> Any:
        return boto_client_for(
            service="athena",
            region=resource_runtime_part.region,
            state_credentials=state_credentials,
        )

    def _from_error(self, env: Any, ex: Exception) -> Any:
        if isinstance(ex, ClientError):
            error_name = f"Athena.{ex.response['Error']['Code']}"
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error_name),
                event_type=HistoryEventType.TaskFailed,
                event_details=_EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=error_name,
                        cause=ex.response["Error"].get("Message", ""),
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        client = self._client(resource_runtime_part, state_credentials)
        action = self._get_boto_service_action()
        response = getattr(client, action)(**normalised_parameters)
        env.stack.append(_json_safe(response))

    def _build_sync_resolver(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> Callable[[], Any]:
        """GetQueryExecution until the query is terminal: its response when it SUCCEEDED,
        States.TaskFailed (cause: the response) when it FAILED or was CANCELLED."""
        started: dict[str, Any] = env.stack.pop()
        query_id = started["QueryExecutionId"]
        client = self._client(resource_runtime_part, state_credentials)

        def resolve() -> Any:
            described = _json_safe(client.get_query_execution(QueryExecutionId=query_id))
            state = described["QueryExecution"]["Status"]["State"]
            if state not in _TERMINAL:
                return None
            if state == "SUCCEEDED":
                return described
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=_EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                            error=StatesErrorNameType.StatesTaskFailed.to_name(),
                            cause=to_json_str(described),
                        )
                    ),
                )
            )

        return resolve

    def _eval_integration_pattern(
        self,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        # moto's shared version waits on a task-token endpoint that .sync tasks do not have.
        resolve = self._build_sync_resolver(
            env, resource_runtime_part, normalised_parameters, state_credentials
        )
        wait_for_sync_result(env, resolve, _POLL_S)


def athena_tasks(patches: Patches) -> None:
    """Athena tasks (request-response and startQueryExecution.sync) in moto's interpreter."""
    original = _SERVICE_FOR.current()

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "athena":
            return StateTaskServiceAthena()
        return original(service_name)

    patches.replace(_SERVICE_FOR, state_task_service_for)
