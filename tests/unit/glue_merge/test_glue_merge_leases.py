"""DynamoLeases against moto, on the lease table as template.yaml declares it: the item a lease
writes, where it expires, and requests DynamoDB itself would accept (moto is laxer)."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto_calls import CallRecorder
from glue_merge_fakes import FIXED_NOW, FixedClock
from moto_dynamodb import template_tables

from cdc_merge.leases import DEFAULT_LEASE_SECONDS, DynamoLeases

LEASES = "leases-test"
TABLE = "sales.orders"
NOW = FIXED_NOW
LEASE_SECONDS = 600
DAY_SECONDS = 86_400


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    with template_tables(sam_template, {"ProcessingLeaseTable": LEASES}) as client:
        yield client


def lease_item(dynamodb: Any) -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(
        TableName=LEASES, Key={"source_table": {"S": TABLE}}, ConsistentRead=True
    ).get("Item")
    return item


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def test_a_lease_item_names_its_run_its_start_its_expiry_and_a_ttl_a_day_later(
    dynamodb: Any,
) -> None:
    # Given a free table
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb, clock=FixedClock())
    # When a run takes its lease
    assert leases.acquire(TABLE, "run-a")
    # Then the item holds exactly the run, when it was taken, its expiry and its TTL
    expires = epoch(NOW) + LEASE_SECONDS
    assert lease_item(dynamodb) == {
        "source_table": {"S": TABLE},
        "run_id": {"S": "run-a"},
        "acquired_at": {"S": NOW.isoformat()},
        "lease_expires_at": {"N": str(expires)},
        "ttl": {"N": str(expires + DAY_SECONDS)},
    }


def test_a_lease_lasts_an_hour_unless_told_otherwise(dynamodb: Any) -> None:
    # Given leases made without a duration
    leases = DynamoLeases(LEASES, client=dynamodb, clock=FixedClock())
    # When one is taken / Then it expires an hour later
    assert leases.acquire(TABLE, "run-a")
    item = lease_item(dynamodb)
    assert item is not None
    assert DEFAULT_LEASE_SECONDS == 3600
    assert item["lease_expires_at"] == {"N": str(epoch(NOW) + 3600)}


def test_without_a_clock_a_lease_starts_at_the_current_utc_time(dynamodb: Any) -> None:
    # Given leases on the real clock
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb)
    # When one is taken
    before = datetime.now(UTC).replace(microsecond=0)
    assert leases.acquire(TABLE, "run-a")
    after = datetime.now(UTC)
    # Then it was taken at a UTC instant of that call, and expires from there
    item = lease_item(dynamodb)
    assert item is not None
    acquired = datetime.fromisoformat(item["acquired_at"]["S"])
    assert acquired.utcoffset() == timedelta(0)
    assert before <= acquired <= after
    assert int(item["lease_expires_at"]["N"]) == epoch(acquired) + LEASE_SECONDS


@pytest.mark.parametrize("seconds", [0, -1])
def test_a_lease_that_would_not_last_is_refused(seconds: int) -> None:
    with pytest.raises(ValueError, match="lease_seconds"):
        DynamoLeases(LEASES, seconds)


def test_a_one_second_lease_is_allowed(dynamodb: Any) -> None:
    # Given the shortest lease / When taken / Then it expires one second later
    leases = DynamoLeases(LEASES, 1, client=dynamodb, clock=FixedClock())
    assert leases.acquire(TABLE, "run-a")
    item = lease_item(dynamodb)
    assert item is not None
    assert item["lease_expires_at"] == {"N": str(epoch(NOW) + 1)}


# The acquire condition is ``lease_expires_at < :now``: a lease is live up to and including the
# second it expires at, and can be taken over from the next second on.
@pytest.mark.parametrize(
    ("seconds_after_start", "taken_over"),
    [
        (LEASE_SECONDS - 1, False),  # one second before the expiry: live
        (LEASE_SECONDS, False),  # at the expiry second itself (lease_expires_at == now): live
        (LEASE_SECONDS + 1, True),  # one second past it: expired
    ],
)
def test_a_lease_is_live_through_its_expiry_second(
    dynamodb: Any, seconds_after_start: int, taken_over: bool
) -> None:
    # Given run-a's lease, expiring LEASE_SECONDS after it was taken
    clock = FixedClock()
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "run-a")
    # When run-b claims the table at, around, the expiry
    clock.now = NOW + timedelta(seconds=seconds_after_start)
    # Then it gets it only once the expiry second has passed
    assert leases.acquire(TABLE, "run-b") is taken_over
    item = lease_item(dynamodb)
    assert item is not None
    assert item["run_id"] == {"S": "run-b" if taken_over else "run-a"}


def test_a_refused_claim_leaves_the_live_lease_as_it_was(dynamodb: Any) -> None:
    # Given run-a's lease
    clock = FixedClock()
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "run-a")
    taken = lease_item(dynamodb)
    # When run-b claims it while it is live
    clock.now += timedelta(seconds=10)
    assert not leases.acquire(TABLE, "run-b")
    # Then the item is untouched (neither holder, expiry nor TTL moved)
    assert lease_item(dynamodb) == taken


def test_releasing_a_table_nobody_holds_deletes_nothing_and_says_so(dynamodb: Any) -> None:
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb, clock=FixedClock())
    assert not leases.release(TABLE, "run-a")
    assert lease_item(dynamodb) is None


def test_failures_other_than_the_condition_are_raised(dynamodb: Any) -> None:
    # Given leases on a table that does not exist
    leases = DynamoLeases("no-such-table", LEASE_SECONDS, client=dynamodb, clock=FixedClock())
    # When a lease is taken or released / Then the error surfaces (not "locked", not "released")
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        leases.acquire(TABLE, "run-a")
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        leases.release(TABLE, "run-a")


# --- requests DynamoDB accepts -------------------------------------------------------------------

_VALUE_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")


def placeholders(params: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(the value placeholders the request's expression uses, the values it sends)."""
    used = set(_VALUE_PLACEHOLDER.findall(params.get("ConditionExpression", "")))
    return used, set(params.get("ExpressionAttributeValues", {}))


def test_taking_a_lease_sends_exactly_the_values_its_condition_uses(dynamodb: Any) -> None:
    # Given a recorded client, and a lease taken then refused (both send the same request)
    recorder = CallRecorder(dynamodb)
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb, clock=FixedClock())
    # When two runs claim the table
    assert leases.acquire(TABLE, "run-a")
    assert not leases.acquire(TABLE, "run-b")
    # Then each PutItem sends a value for each placeholder, and no value no placeholder uses
    # (DynamoDB refuses both an undefined and an unused value with a ValidationException)
    puts = recorder.params_of("PutItem")
    assert len(puts) == 2
    for params in puts:
        used, sent = placeholders(params)
        assert used == sent == {":now"}
        assert params["ExpressionAttributeValues"][":now"] == {"N": str(epoch(NOW))}


def test_releasing_a_lease_sends_exactly_the_values_its_condition_uses(dynamodb: Any) -> None:
    # Given a recorded client and run-a's lease
    recorder = CallRecorder(dynamodb)
    leases = DynamoLeases(LEASES, LEASE_SECONDS, client=dynamodb, clock=FixedClock())
    assert leases.acquire(TABLE, "run-a")
    # When another run, then the holder, release it
    assert not leases.release(TABLE, "run-b")
    assert leases.release(TABLE, "run-a")
    # Then each DeleteItem sends a value for each placeholder and no other, the releasing run's id
    deletes = recorder.params_of("DeleteItem")
    assert [params["ExpressionAttributeValues"] for params in deletes] == [
        {":run_id": {"S": "run-b"}},
        {":run_id": {"S": "run-a"}},
    ]
    for params in deletes:
        used, sent = placeholders(params)
        assert used == sent


# --- taking over and releasing ------------------------------------------------------------------


# Concurrent claimers are tested on DynamoDB Local only
# (tests/integration/engines/test_dynamodb_leases.py): moto does not serialize conditional
# writes across threads, so two of 16 claimers could both "win" there (seen once in 1,937).


def test_a_live_lease_refuses_another_run(dynamodb: Any) -> None:
    clock = FixedClock()
    assert DynamoLeases(LEASES, 600, client=dynamodb, clock=clock).acquire(TABLE, "run-a")
    clock.now += timedelta(seconds=599)
    assert not DynamoLeases(LEASES, 600, client=dynamodb, clock=clock).acquire(TABLE, "run-b")


def test_an_expired_lease_is_taken_over(dynamodb: Any) -> None:
    # Given a lease taken by a run that then crashed
    clock = FixedClock()
    leases = DynamoLeases(LEASES, 600, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "crashed-run")
    # When another run claims the table after the lease expired
    clock.now += timedelta(seconds=601)
    # Then it gets it, with a new expiry and a TTL past it
    assert leases.acquire(TABLE, "run-b")
    item = lease_item(dynamodb)
    assert item is not None
    expires = int(clock.now.timestamp()) + 600
    assert item["run_id"] == {"S": "run-b"}
    assert item["lease_expires_at"] == {"N": str(expires)}
    assert int(item["ttl"]["N"]) > expires


def test_a_second_job_run_of_the_same_execution_is_refused(dynamodb: Any) -> None:
    # Given a table leased by a job run of an execution
    leases = DynamoLeases(LEASES, 600, client=dynamodb, clock=FixedClock())
    assert leases.acquire(TABLE, "run-a")
    # When another job run of the same execution (a retry) claims it / Then it must wait
    assert not leases.acquire(TABLE, "run-a")


def test_release_by_another_run_is_refused(dynamodb: Any) -> None:
    # Given run-b took over run-a's expired lease
    clock = FixedClock()
    leases = DynamoLeases(LEASES, 600, client=dynamodb, clock=clock)
    leases.acquire(TABLE, "run-a")
    clock.now += timedelta(hours=1)
    leases.acquire(TABLE, "run-b")
    # When the late run-a releases / Then nothing happens to run-b's lease
    assert not leases.release(TABLE, "run-a")
    item = lease_item(dynamodb)
    assert item is not None
    assert item["run_id"] == {"S": "run-b"}


def test_release_by_the_holder_frees_the_table(dynamodb: Any) -> None:
    leases = DynamoLeases(LEASES, 600, client=dynamodb, clock=FixedClock())
    leases.acquire(TABLE, "run-a")
    assert leases.release(TABLE, "run-a")
    assert lease_item(dynamodb) is None
    assert leases.acquire(TABLE, "run-b")
