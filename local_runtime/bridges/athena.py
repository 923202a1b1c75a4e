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

While installed, the bridge also gives moto's Step Functions interpreter its missing Athena
integration (``arn:aws:states:::athena:startQueryExecution.sync`` and request-response tasks:
moto_adapter/sfn_athena.py).
"""

import json
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from local_runtime.bridges import RuntimeServices
from local_runtime.engines.athena import (
    ICEBERG_ERROR_TYPE,
    INTERNAL_ERROR_TYPE,
    SYSTEM_ERROR,
    AthenaOnDuckDB,
    QueryError,
    QueryOutcome,
)
from local_runtime.moto_adapter.hooks import (
    ATHENA_DESCRIBE_RESPONSE,
    ATHENA_GET_QUERY,
    ATHENA_GET_RESULTS,
    ATHENA_START_QUERY,
    ATHENA_STOP_QUERY,
    Patches,
)
from local_runtime.moto_adapter.services import ApiError, athena_query_results
from local_runtime.moto_adapter.sfn_athena import athena_tasks

DATABASE_FILE: Final = "athena.duckdb"  # beside lake.duckdb (the Glue stand-in's), not in it
DATA_DIR: Final = "athena-data"
_TERMINAL: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
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
        self._patches = Patches()
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
        original_start: Any = ATHENA_START_QUERY.current()
        original_get: Any = ATHENA_GET_QUERY.current()
        original_results: Any = ATHENA_GET_RESULTS.current()
        original_stop: Any = ATHENA_STOP_QUERY.current()
        original_describe: Any = ATHENA_DESCRIBE_RESPONSE.current()

        def start_query_execution(  # noqa: PLR0917 - moto's signature
            backend: Any,
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

        def get_query_execution(backend: Any, exec_id: str) -> Any:
            if exec_id not in backend.executions:
                raise ApiError("InvalidRequestException", f"QueryExecution {exec_id} was not found")
            return original_get(backend, exec_id)

        def get_query_results(backend: Any, exec_id: str) -> Any:
            record = bridge._by_id.get(exec_id)
            if record is None or record.outcome is None:
                return original_results(backend, exec_id)
            if record.state != "SUCCEEDED":
                raise ApiError(
                    "InvalidRequestException",
                    f"Query did not finish successfully. Final query state: {record.state}",
                )
            rows, column_info = result_set(record.outcome)
            return athena_query_results(rows, column_info, record.outcome.update_count or 0)

        def stop_query_execution(backend: Any, exec_id: str) -> None:
            record = bridge._by_id.get(exec_id)
            if record is not None and record.state in _TERMINAL:
                return  # stopping a finished query changes nothing
            original_stop(backend, exec_id)

        def describe(response: Any) -> Any:
            body = original_describe(response)
            record = bridge._by_id.get(response._get_param("QueryExecutionId"))
            if record is None or not isinstance(body, str):
                return body
            return json.dumps(_described(json.loads(body), record))

        self._patches.replace(ATHENA_START_QUERY, start_query_execution)
        self._patches.replace(ATHENA_GET_QUERY, get_query_execution)
        self._patches.replace(ATHENA_GET_RESULTS, get_query_results)
        self._patches.replace(ATHENA_STOP_QUERY, stop_query_execution)
        self._patches.replace(ATHENA_DESCRIBE_RESPONSE, describe)
        athena_tasks(self._patches)

    def uninstall(self) -> None:
        if self in _installed:
            _installed.remove(self)
        self._patches.restore()
        if self.engine is not None:
            self.engine.close()

    def pump(self) -> int:
        return 0  # queries complete inside StartQueryExecution

    # ------------------------------------------------------------------ internals
    def _take_throttle(self) -> None:
        with self._lock:
            if self._throttles <= 0:
                return
            self._throttles -= 1
        raise ApiError("TooManyRequestsException", "Rate exceeded")

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
        raise ApiError(
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
