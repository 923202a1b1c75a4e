"""Athena, executed locally: every query runs on DuckDB (``AthenaOnDuckDB``) when it is started.

moto's Athena records a query and reports it SUCCEEDED without running anything. We let moto
record it, then run the statement on the engine in the calling thread and leave the execution
SUCCEEDED or FAILED, as a finished Athena query looks:

- GetQueryExecution carries the StateChangeReason and the AthenaError of a failed query, the
  StatementType, the effective ResultConfiguration (the workgroup's output location when it is
  enforced, or when the request has none) and the engine time;
- GetQueryResults returns the rows in Athena's ResultSet shape (header row first), UpdateCount
  for DML; a failed query's results are refused as Athena refuses them;
- a query with a result set writes ``<output location>/<query id>.csv`` to S3, as Athena does.

``fail_next`` / ``throttle_next`` make the next queries fail like an Iceberg commit conflict or
refuse StartQueryExecution like Athena's throttling, for tests of the callers' retries.

``install_athena_sync`` makes ``arn:aws:states:::athena:startQueryExecution.sync`` work in moto's
Step Functions interpreter (which has no Athena integration): StartQueryExecution, then
GetQueryExecution until the query is terminal; the bridge installs it for as long as it is
installed.
"""

import datetime
import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError
from moto.athena.models import AthenaBackend, QueryResults
from moto.athena.responses import AthenaResponse
from moto.core.exceptions import JsonRESTError
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

from local_runtime.athena_duckdb import (
    ICEBERG_ERROR_TYPE,
    INTERNAL_ERROR_TYPE,
    SYSTEM_ERROR,
    AthenaOnDuckDB,
    QueryError,
    QueryOutcome,
)
from local_runtime.bridges import RuntimeServices

DATABASE_FILE: Final = "athena.duckdb"  # beside lake.duckdb (the Glue stand-in's), not in it
DATA_DIR: Final = "athena-data"
_TERMINAL: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
_POLL_S: Final = 0.01
_NOTE_SQL_CHARS: Final = 160
DEFAULT_FAULT: Final = (
    "ICEBERG_COMMIT_ERROR: Failed to commit Iceberg update to table: the table was changed by "
    "another writer (injected by the local runtime)"
)


@dataclass
class AthenaQuery:
    """One StartQueryExecution the local runtime ran (or failed on purpose)."""

    query_id: str
    sql: str
    database: str | None
    workgroup: str
    output_location: str | None
    state: str
    reason: str | None = None
    outcome: QueryOutcome | None = None
    injected: bool = False  # failed by fail_next, not by the engine
    trace: str | None = None  # the traceback when the stand-in itself failed


@dataclass(frozen=True)
class _Fault:
    reason: str
    retryable: bool
    category: int
    error_type: int
    statement: str | None  # only statements starting with this keyword (None: any)

    def applies_to(self, sql: str) -> bool:
        words = sql.split(None, 1)
        return self.statement is None or (bool(words) and words[0].upper() == self.statement)


class _LocalQueryResults(QueryResults):
    """moto's QueryResults plus UpdateCount, as GetQueryResults returns it for DML."""

    def __init__(
        self, rows: list[dict[str, Any]], column_info: list[dict[str, Any]], update_count: int
    ) -> None:
        super().__init__(rows=rows, column_info=column_info)
        self.update_count = update_count

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = super().to_dict()
        result["UpdateCount"] = self.update_count
        return result


def result_set(outcome: QueryOutcome) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Rows, ColumnInfo) of GetQueryResults for an outcome: header row first, NULL as {}."""
    rows = [
        {"Data": [{} if value is None else {"VarCharValue": value} for value in row]}
        for row in outcome.result_rows()
    ]
    column_info = [
        {
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": column.name,
            "Label": column.name,
            "Type": column.type,
            "Precision": column.precision,
            "Scale": column.scale,
            "Nullable": "UNKNOWN",
            "CaseSensitive": column.type == "varchar",
        }
        for column in outcome.columns
    ]
    return rows, column_info


def _error_fields(error: QueryError) -> dict[str, Any]:
    return {
        "ErrorCategory": error.category,
        "ErrorType": error.error_type,
        "Retryable": error.retryable,
        "ErrorMessage": error.message,
    }


_installed: list["AthenaBridge"] = []  # moto's backend is patched once per process


class AthenaBridge:
    def __init__(self, database_file: str = DATABASE_FILE) -> None:
        self.database_file = database_file
        self.engine: AthenaOnDuckDB | None = None
        self.queries: list[AthenaQuery] = []
        self._by_id: dict[str, AthenaQuery] = {}
        self._faults: list[_Fault] = []
        self._throttles = 0
        self._services: RuntimeServices | None = None
        self._saved: list[tuple[Any, str, Any]] = []
        self._sync_installed = False
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ test controls
    def fail_next(
        self,
        count: int = 1,
        reason: str = DEFAULT_FAULT,
        *,
        retryable: bool = True,
        category: int = SYSTEM_ERROR,
        error_type: int = ICEBERG_ERROR_TYPE,
        statement: str | None = None,
    ) -> None:
        """The next ``count`` queries (starting with ``statement``, e.g. "MERGE", if given) FAIL
        with ``reason`` as their StateChangeReason, without running."""
        fault = _Fault(
            reason, retryable, category, error_type, statement.upper() if statement else None
        )
        with self._lock:
            self._faults.extend([fault] * count)

    def throttle_next(self, count: int = 1) -> None:
        """The next ``count`` StartQueryExecution calls raise TooManyRequestsException."""
        with self._lock:
            self._throttles += count

    def query(self, query_id: str) -> AthenaQuery:
        return self._by_id[query_id]

    # ------------------------------------------------------------------ Bridge protocol
    def install(self, services: RuntimeServices) -> None:
        if _installed:
            raise RuntimeError("an AthenaBridge is already installed (queries would run twice)")
        _installed.append(self)
        self._services = services
        self.engine = AthenaOnDuckDB(
            services.workdir / self.database_file,
            glue=services.session.client("glue"),
            s3=services.session.client("s3"),
            data_dir=services.workdir / DATA_DIR,
        )
        bridge = self
        original_start: Any = AthenaBackend.start_query_execution
        original_get: Any = AthenaBackend.get_query_execution
        original_results: Any = AthenaBackend.get_query_results
        original_stop: Any = AthenaBackend.stop_query_execution
        original_describe: Any = AthenaResponse.get_query_execution

        def start_query_execution(  # noqa: PLR0917 - moto's signature
            backend: AthenaBackend,
            query: str,
            context: Any,
            config: Any,
            workgroup: str | None,
            execution_parameters: list[str] | None,
        ) -> str:
            bridge._take_throttle()
            group = backend.work_groups.get(workgroup or "primary")
            base = _output_base(group, config)
            query_id: str = original_start(
                backend, query, context, config, workgroup, execution_parameters
            )
            execution = backend.executions[query_id]
            execution._transitions = []  # the state is ours to set, not moto's clock
            execution.workgroup = group
            execution.config = {
                **(config or {}),
                "OutputLocation": f"{base.rstrip('/')}/{query_id}.csv",
            }
            bridge._run(execution, context, execution_parameters)
            return query_id

        def get_query_execution(backend: AthenaBackend, exec_id: str) -> Any:
            if exec_id not in backend.executions:
                raise JsonRESTError(
                    "InvalidRequestException", f"QueryExecution {exec_id} was not found"
                )
            return original_get(backend, exec_id)

        def get_query_results(backend: AthenaBackend, exec_id: str) -> Any:
            record = bridge._by_id.get(exec_id)
            if record is None or record.outcome is None:
                return original_results(backend, exec_id)
            if record.state != "SUCCEEDED":
                raise JsonRESTError(
                    "InvalidRequestException",
                    f"Query did not finish successfully. Final query state: {record.state}",
                )
            rows, column_info = result_set(record.outcome)
            return _LocalQueryResults(rows, column_info, record.outcome.update_count or 0)

        def stop_query_execution(backend: AthenaBackend, exec_id: str) -> None:
            record = bridge._by_id.get(exec_id)
            if record is not None and record.state in _TERMINAL:
                return  # stopping a finished query changes nothing
            original_stop(backend, exec_id)

        def describe(response: AthenaResponse) -> Any:
            body = original_describe(response)
            record = bridge._by_id.get(response._get_param("QueryExecutionId"))
            if record is None or not isinstance(body, str):
                return body
            return json.dumps(_described(json.loads(body), record))

        self._patch(AthenaBackend, "start_query_execution", start_query_execution)
        self._patch(AthenaBackend, "get_query_execution", get_query_execution)
        self._patch(AthenaBackend, "get_query_results", get_query_results)
        self._patch(AthenaBackend, "stop_query_execution", stop_query_execution)
        self._patch(AthenaResponse, "get_query_execution", describe)
        install_athena_sync()
        self._sync_installed = True

    def uninstall(self) -> None:
        if self in _installed:
            _installed.remove(self)
        if self._sync_installed:
            uninstall_athena_sync()
            self._sync_installed = False
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()
        if self.engine is not None:
            self.engine.close()

    def pump(self) -> int:
        return 0  # queries complete inside StartQueryExecution

    # ------------------------------------------------------------------ internals
    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def _take_throttle(self) -> None:
        with self._lock:
            if self._throttles <= 0:
                return
            self._throttles -= 1
        raise JsonRESTError("TooManyRequestsException", "Rate exceeded")

    def _take_fault(self, sql: str) -> _Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.applies_to(sql):
                    return self._faults.pop(index)
        return None

    def _execute(self, record: AthenaQuery, parameters: list[str] | None) -> QueryOutcome:
        """The engine's outcome, with the results file written; a local failure is FAILED."""
        assert self.engine is not None
        assert self._services is not None
        try:
            outcome = self.engine.execute(record.sql, record.database, parameters)
            if outcome.succeeded and outcome.columns and record.output_location:
                bucket, _, key = record.output_location.removeprefix("s3://").partition("/")
                self._services.session.client("s3").put_object(
                    Bucket=bucket, Key=key, Body=outcome.to_csv().encode("utf-8")
                )
        except ClientError as error:
            return _failed(
                f"HIVE_FILESYSTEM_ERROR: cannot write the results to {record.output_location}: "
                f"{error}"
            )
        except Exception as error:  # a defect of the stand-in must not look like moto's
            record.trace = traceback.format_exc()
            return _failed(f"GENERIC_INTERNAL_ERROR: local Athena stand-in: {error!r}")
        return outcome

    def _run(self, execution: Any, context: Any, parameters: list[str] | None) -> None:
        assert self.engine is not None
        assert self._services is not None
        database = (context or {}).get("Database") if isinstance(context, dict) else None
        workgroup = execution.workgroup.name if execution.workgroup else "primary"
        location: str = execution.config["OutputLocation"]
        record = AthenaQuery(
            query_id=execution.id,
            sql=execution.query,
            database=database,
            workgroup=workgroup,
            output_location=location,
            state="RUNNING",
        )
        with self._lock:
            self.queries.append(record)
            self._by_id[record.query_id] = record
        execution.status = "RUNNING"
        fault = self._take_fault(execution.query)
        if fault is not None:
            code = fault.reason.split(":", 1)[0]
            outcome = QueryOutcome(
                state="FAILED",
                statement_type="DML",
                error=QueryError(
                    code, fault.reason, fault.category, fault.error_type, fault.retryable
                ),
            )
            record.injected = True
        else:
            outcome = self._execute(record, parameters)
        record.outcome, record.state, record.reason = (
            outcome,
            outcome.state,
            outcome.state_change_reason,
        )
        execution.status = outcome.state
        execution.end_time = time.time()
        self._services.activity.notes.append(_note(record))


def _failed(reason: str) -> QueryOutcome:
    code = reason.split(":", 1)[0]
    return QueryOutcome(
        state="FAILED",
        statement_type="DML",
        error=QueryError(code, reason, SYSTEM_ERROR, INTERNAL_ERROR_TYPE, retryable=False),
    )


def _output_base(group: Any, config: Any) -> str:
    """Where results go: the workgroup's location if enforced (or the request has none)."""
    configuration = group.configuration if group is not None else {}
    workgroup_location = (configuration.get("ResultConfiguration") or {}).get("OutputLocation")
    requested = (config or {}).get("OutputLocation")
    enforced = bool(configuration.get("EnforceWorkGroupConfiguration", False))
    base = workgroup_location if (enforced and workgroup_location) or not requested else requested
    if not base:
        raise JsonRESTError(
            "InvalidRequestException",
            "No output location provided. An output location is required either through the "
            "Workgroup result configuration setting or as an API input.",
        )
    return str(base)


def _described(body: dict[str, Any], record: AthenaQuery) -> dict[str, Any]:
    execution = body["QueryExecution"]
    outcome = record.outcome
    status = execution["Status"]
    status["State"] = record.state
    if outcome is not None:
        execution["StatementType"] = outcome.statement_type
        execution["Statistics"]["EngineExecutionTimeInMillis"] = outcome.engine_ms
        execution["Statistics"]["TotalExecutionTimeInMillis"] = outcome.engine_ms
        if outcome.error is not None:
            status["StateChangeReason"] = outcome.error.message
            status["AthenaError"] = _error_fields(outcome.error)
    return body


def _note(record: AthenaQuery) -> str:
    sql = " ".join(record.sql.split())
    if len(sql) > _NOTE_SQL_CHARS:
        sql = sql[: _NOTE_SQL_CHARS - 1] + "…"
    outcome = record.outcome
    detail = ""
    if record.reason:
        detail = f" → {record.reason}"
    elif outcome is not None and outcome.update_count is not None:
        detail = f" ({outcome.update_count} rows)"
    elif outcome is not None and outcome.columns:
        detail = f" ({len(outcome.rows)} rows returned)"
    return f"athena {record.state} [{record.workgroup}] {sql}{detail}"


# -------------------------------------------------------------------------- Step Functions .sync
_EventDetails: Any = EventDetails  # a TypedDict whose keys are all required in moto's stubs
_FACTORY_FUNCTION: Final = "state_task_service_for"
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
        result = resolve()
        while result is None and env.is_running():
            time.sleep(_POLL_S)
            result = resolve()
        env.stack.append(result)


_original_service_for: list[Any] = []


def install_athena_sync() -> None:
    """Athena tasks (request-response and startQueryExecution.sync) in moto's interpreter."""
    if _original_service_for:
        return
    original = getattr(state_task_factory, _FACTORY_FUNCTION)
    _original_service_for.append(original)

    def state_task_service_for(service_name: str) -> Any:
        if service_name == "athena":
            return StateTaskServiceAthena()
        return original(service_name)

    setattr(state_task_factory, _FACTORY_FUNCTION, state_task_service_for)


def uninstall_athena_sync() -> None:
    if _original_service_for:
        setattr(state_task_factory, _FACTORY_FUNCTION, _original_service_for.pop())
