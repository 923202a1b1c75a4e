"""Runs one statement on Athena and waits for its end, retrying what is worth retrying.

- Start: StartQueryExecution in the configured workgroup, with the target database as context
  and a fresh ClientRequestToken per attempt (a start repeated by the SDK is not run twice).
- Wait: GetQueryExecution with exponential backoff (0.25 s doubling to 2 s); the wait never
  outlasts the time the Lambda has left. A statement still running then is stopped
  (StopQueryExecution, best effort) and reported TRANSIENT: its records are retried by Lambda,
  and MERGE of final images is idempotent, so it does not matter whether it committed.
- Retry, up to ``max_attempts`` starts, with exponential backoff and jitter: Iceberg commit
  conflicts (FAILED with ICEBERG_COMMIT_ERROR or ConcurrentModification in the reason, or
  AthenaError.Retryable) and throttling (TooManyRequestsException, ThrottlingException, and the
  service's transient 5xx). A FAILED statement is safe to start again: nothing was committed.

Sleeping, the clock and the jitter source are injected, so tests run in milliseconds.
"""

import contextlib
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_athena.type_defs import (
        QueryExecutionStatusTypeDef,
        StartQueryExecutionInputTypeDef,
    )

THROTTLE_CODES: Final = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerException",
        "ServiceUnavailable",
    }
)
CONFLICT_MARKERS: Final = ("ICEBERG_COMMIT_ERROR", "ConcurrentModification")
TERMINAL_STATES: Final = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
# Seconds kept back when deciding whether another wait or retry fits in the time left.
TIME_MARGIN: Final = 1.0


class RunStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Athena rejected the statement (syntax, a value it cannot cast, a missing column...)."""
    CONFLICT = "conflict"
    """Iceberg commit conflicts outlasted the retries."""
    TRANSIENT = "transient"
    """Throttled, unreachable, cancelled or out of time: nothing wrong with the statement."""


@dataclass(frozen=True, slots=True)
class RunResult:
    status: RunStatus
    query_execution_id: str | None = None
    error: str | None = None
    attempts: int = 1
    conflicts_retried: int = 0
    throttles_retried: int = 0

    @property
    def succeeded(self) -> bool:
        return self.status is RunStatus.SUCCEEDED


@dataclass(frozen=True, slots=True)
class _Attempt:
    status: RunStatus
    query_execution_id: str | None
    error: str | None
    retry: bool


def is_commit_conflict(status: "QueryExecutionStatusTypeDef") -> bool:
    reason = status.get("StateChangeReason", "")
    error = status.get("AthenaError", {})
    message = error.get("ErrorMessage", "")
    if any(marker in text for marker in CONFLICT_MARKERS for text in (reason, message)):
        return True
    return bool(error.get("Retryable", False))


def _final_attempt(query_execution_id: str, status: "QueryExecutionStatusTypeDef") -> _Attempt:
    state = status.get("State")
    if state == "SUCCEEDED":
        return _Attempt(RunStatus.SUCCEEDED, query_execution_id, None, False)
    reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
        "ErrorMessage", ""
    )
    if state == "CANCELLED":
        return _Attempt(RunStatus.TRANSIENT, query_execution_id, f"CANCELLED: {reason}", False)
    if is_commit_conflict(status):
        return _Attempt(RunStatus.CONFLICT, query_execution_id, f"FAILED: {reason}", True)
    return _Attempt(RunStatus.FAILED, query_execution_id, f"FAILED: {reason}", False)


def _client_error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class AthenaStatementRunner:
    """Runs statements in one workgroup and database; ``run`` never raises for Athena's answer."""

    def __init__(
        self,
        workgroup: str,
        database: str,
        *,
        output_location: str | None = None,
        client: "AthenaClient | None" = None,
        max_attempts: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 20.0,
        poll_initial: float = 0.25,
        poll_max: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.workgroup = workgroup
        self.database = database
        self.output_location = output_location
        self._client = client
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self._sleep = sleep
        self._jitter = jitter

    @cached_property
    def client(self) -> "AthenaClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("athena")

    def backoff(self, attempt: int) -> float:
        """Equal jitter: half the capped exponential delay, plus up to as much again at random."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return cap / 2 + float(self._jitter()) * cap / 2

    def run(self, sql: str, remaining: Callable[[], float]) -> RunResult:
        """Runs ``sql`` to its end; ``remaining()`` is the seconds this invocation may still use."""
        conflicts = throttles = 0
        attempt = 0
        while True:
            attempt += 1
            outcome = self._attempt(sql, remaining)
            done = (
                outcome.status is RunStatus.SUCCEEDED
                or not outcome.retry
                or attempt >= self.max_attempts
            )
            delay = 0.0 if done else self.backoff(attempt)
            if not done and remaining() - delay < TIME_MARGIN:
                done = True
            if done:
                return RunResult(
                    status=outcome.status,
                    query_execution_id=outcome.query_execution_id,
                    error=outcome.error,
                    attempts=attempt,
                    conflicts_retried=conflicts,
                    throttles_retried=throttles,
                )
            if outcome.status is RunStatus.CONFLICT:
                conflicts += 1
            else:
                throttles += 1
            self._sleep(delay)

    def _start(self, sql: str) -> str:
        request: StartQueryExecutionInputTypeDef = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.database},
            "WorkGroup": self.workgroup,
            "ClientRequestToken": uuid.uuid4().hex,
        }
        if self.output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.output_location}
        return self.client.start_query_execution(**request)["QueryExecutionId"]

    def _attempt(self, sql: str, remaining: Callable[[], float]) -> _Attempt:
        try:
            query_execution_id = self._start(sql)
        except ClientError as error:
            code = _client_error_code(error)
            throttled = code in THROTTLE_CODES
            status = RunStatus.TRANSIENT if throttled else RunStatus.FAILED
            return _Attempt(status, None, f"StartQueryExecution: {code}: {error}", throttled)
        except BotoCoreError as error:
            return _Attempt(RunStatus.TRANSIENT, None, f"StartQueryExecution: {error}", True)
        final = self._wait(query_execution_id, remaining)
        if final is None:
            self._stop(query_execution_id)
            return _Attempt(
                RunStatus.TRANSIENT,
                query_execution_id,
                "still running when the invocation ran out of time; stopped",
                False,
            )
        return _final_attempt(query_execution_id, final)

    def _wait(
        self, query_execution_id: str, remaining: Callable[[], float]
    ) -> "QueryExecutionStatusTypeDef | None":
        """The final status, or None when the time left ran out first."""
        delay = self.poll_initial
        while True:
            try:
                response = self.client.get_query_execution(QueryExecutionId=query_execution_id)
                status = response["QueryExecution"]["Status"]
                if status.get("State") in TERMINAL_STATES:
                    return status
            except ClientError as error:
                if _client_error_code(error) not in THROTTLE_CODES:
                    return {
                        "State": "CANCELLED",
                        "StateChangeReason": f"GetQueryExecution: {error}",
                    }
            except BotoCoreError:
                pass  # the network hiccuped; ask again after the delay
            if remaining() - delay < TIME_MARGIN:
                return None
            self._sleep(delay)
            delay = min(delay * 2, self.poll_max)

    def _stop(self, query_execution_id: str) -> None:
        # Best effort: a statement that completes anyway is harmless (MERGE is idempotent).
        with contextlib.suppress(BotoCoreError, ClientError):
            self.client.stop_query_execution(QueryExecutionId=query_execution_id)
