"""The Athena adapter: waiting, retrying conflicts and throttling, and staying within time."""

from typing import TYPE_CHECKING, cast

import pytest
from iceberg_cdc_fakes import (
    COMMIT_CONFLICT,
    DATABASE,
    WORKGROUP,
    DuckDbWarehouse,
    FakeAthenaClient,
    FakeGlueClient,
    Outcome,
    client_error,
    runner_for,
)

from iceberg_cdc.athena import AthenaStatementRunner, RunStatus, is_commit_conflict

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient

SQL = "SELECT 1"


@pytest.fixture
def athena() -> FakeAthenaClient:
    return FakeAthenaClient(DuckDbWarehouse(FakeGlueClient()))


def forever() -> float:
    return 600.0


def test_statement_runs_in_the_workgroup_with_the_database_as_context(
    athena: FakeAthenaClient,
) -> None:
    # Given a runner with an output location / When a statement runs
    result = runner_for(athena, [], output_location="s3://results/iceberg-cdc/").run(SQL, forever)
    # Then Athena got the workgroup, database and location, with a request token
    assert result.status is RunStatus.SUCCEEDED
    (request,) = athena.requests
    assert request["WorkGroup"] == WORKGROUP
    assert request["QueryExecutionContext"] == {"Database": DATABASE}
    assert request["ResultConfiguration"] == {"OutputLocation": "s3://results/iceberg-cdc/"}
    assert len(request["ClientRequestToken"]) >= 32


def test_waiting_backs_off_exponentially_up_to_two_seconds(athena: FakeAthenaClient) -> None:
    # Given a statement that stays RUNNING for 6 polls
    athena.running_polls = 6
    sleeps: list[float] = []
    # When it runs
    result = runner_for(athena, sleeps).run(SQL, forever)
    # Then the polls wait 0.25 s doubling, capped at 2 s
    assert result.succeeded
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_commit_conflict_is_retried_with_backoff_then_succeeds(athena: FakeAthenaClient) -> None:
    # Given two Iceberg commit conflicts before the statement goes through
    athena.conflicts = 2
    sleeps: list[float] = []
    # When it runs
    result = runner_for(athena, sleeps).run(SQL, forever)
    # Then it is started three times, waiting 0.75 s then 1.5 s (equal jitter at 0.5)
    assert result.status is RunStatus.SUCCEEDED
    assert result.attempts == 3
    assert result.conflicts_retried == 2
    assert len(athena.started) == 3
    assert sleeps == [0.75, 1.5]


def test_throttled_start_is_retried(athena: FakeAthenaClient) -> None:
    # Given StartQueryExecution throttled twice
    athena.throttles = 2
    # When a statement runs / Then it succeeds on the third try, throttles counted
    result = runner_for(athena, []).run(SQL, forever)
    assert result.succeeded
    assert result.throttles_retried == 2
    assert len(athena.started) == 1


def test_conflicts_outlasting_the_attempts_are_reported_as_conflict(
    athena: FakeAthenaClient,
) -> None:
    # Given conflicts on every attempt / When a statement runs with 3 attempts
    athena.conflicts = 10
    result = runner_for(athena, [], max_attempts=3).run(SQL, forever)
    # Then it stops after 3 starts and says so
    assert result.status is RunStatus.CONFLICT
    assert len(athena.started) == 3
    assert "ICEBERG_COMMIT_ERROR" in (result.error or "")


def test_throttling_outlasting_the_attempts_is_transient(athena: FakeAthenaClient) -> None:
    # Given StartQueryExecution throttled every time / When a statement runs
    athena.throttles = 10
    result = runner_for(athena, [], max_attempts=3).run(SQL, forever)
    # Then it gives up as TRANSIENT (nothing wrong with the statement)
    assert result.status is RunStatus.TRANSIENT
    assert "TooManyRequestsException" in (result.error or "")


def test_a_rejected_statement_is_not_retried(athena: FakeAthenaClient) -> None:
    # Given a statement Athena fails for its content
    athena.script = [Outcome("FAILED", "INVALID_CAST_ARGUMENT: bad value")]
    # When it runs / Then it fails once, with Athena's reason
    result = runner_for(athena, []).run(SQL, forever)
    assert result.status is RunStatus.FAILED
    assert len(athena.started) == 1
    assert "INVALID_CAST_ARGUMENT" in (result.error or "")


def test_retryable_athena_error_counts_as_a_conflict(athena: FakeAthenaClient) -> None:
    # Given a failure Athena marks Retryable without naming Iceberg, then success
    athena.script = [Outcome("FAILED", "Slow down", retryable=True)]
    # When it runs / Then it was retried
    result = runner_for(athena, []).run(SQL, forever)
    assert result.succeeded
    assert result.attempts == 2


def test_invalid_request_on_start_fails_without_retry(athena: FakeAthenaClient) -> None:
    # Given a start rejected as invalid (e.g. a query too long) / When run / Then FAILED once
    def reject(**_: object) -> dict[str, str]:
        raise client_error("InvalidRequestException")

    athena.start_query_execution = reject  # type: ignore[method-assign]
    result = runner_for(athena, []).run(SQL, forever)
    assert result.status is RunStatus.FAILED
    assert result.attempts == 1


def test_wait_is_bounded_by_the_time_left_and_the_query_is_stopped(
    athena: FakeAthenaClient,
) -> None:
    # Given a statement that keeps running and an invocation with 3 seconds left
    athena.running_polls = 1000
    clock = {"left": 3.0}
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock["left"] -= seconds

    runner = AthenaStatementRunner(
        "wg", DATABASE, client=cast("AthenaClient", athena), sleep=sleep, jitter=lambda: 0.5
    )
    # When it runs
    result = runner.run(SQL, lambda: clock["left"])
    # Then it stops waiting before the time is up, stops the query and reports TRANSIENT
    assert result.status is RunStatus.TRANSIENT
    assert sum(sleeps) <= 3.0
    assert len(athena.stopped) == 1


def test_no_retry_is_started_without_time_for_its_backoff(athena: FakeAthenaClient) -> None:
    # Given conflicts and only 1.5 seconds left / When a statement runs
    athena.conflicts = 5
    result = runner_for(athena, []).run(SQL, lambda: 1.5)
    # Then it is not retried (the 0.75 s backoff would leave less than the margin)
    assert result.status is RunStatus.CONFLICT
    assert len(athena.started) == 1


@pytest.mark.parametrize(
    ("status", "conflict"),
    [
        ({"State": "FAILED", "StateChangeReason": COMMIT_CONFLICT.reason}, True),
        ({"State": "FAILED", "StateChangeReason": "ICEBERG_COMMIT_ERROR: x"}, True),
        ({"State": "FAILED", "AthenaError": {"ErrorMessage": "ConcurrentModification"}}, True),
        ({"State": "FAILED", "AthenaError": {"Retryable": True}}, True),
        ({"State": "FAILED", "StateChangeReason": "COLUMN_NOT_FOUND: x"}, False),
    ],
)
def test_commit_conflicts_are_recognised(status: dict, conflict: bool) -> None:
    # Given a FAILED status / Then it is a conflict exactly when Athena says so
    assert is_commit_conflict(status) is conflict  # type: ignore[arg-type]
