"""The Glue job's table leases (glue/cdc_merge/leases.py) on DynamoDB Local, on the lease table
exactly as template.yaml declares it: acquire, refuse, expire, take over, release."""

import threading
from collections.abc import Callable
from datetime import timedelta

import boto3
import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from cdc_merge.leases import DynamoLeases
from tests.integration.engines.dynamodb_support import MAX_PARTITION_KEY_BYTES, Clock

TABLE = "sales.orders"


@pytest.fixture
def leases_table(template_table: Callable[[str], str]) -> str:
    return template_table("ProcessingLeaseTable")


def lease_of(dynamodb: DynamoDBClient, table: str, source_table: str = TABLE) -> dict[str, str]:
    """The stored lease as plain values ({} when there is none)."""
    item = dynamodb.get_item(
        TableName=table, Key={"source_table": {"S": source_table}}, ConsistentRead=True
    ).get("Item", {})
    return {name: next(iter(value.values())) for name, value in item.items()}  # type: ignore[misc]


def test_a_free_table_is_leased_to_the_run(dynamodb: DynamoDBClient, leases_table: str) -> None:
    # Given no lease on the table
    clock = Clock()
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=clock)
    # When a run acquires it
    acquired = leases.acquire(TABLE, "run-a")
    # Then DynamoDB takes the conditional put and stores the run's lease with its expiry and TTL
    expires = int(clock.now.timestamp()) + 600
    assert acquired
    assert lease_of(dynamodb, leases_table) == {
        "source_table": TABLE,
        "run_id": "run-a",
        "acquired_at": clock.now.isoformat(),
        "lease_expires_at": str(expires),
        "ttl": str(expires + 86_400),
    }


def test_a_live_lease_refuses_another_run(dynamodb: DynamoDBClient, leases_table: str) -> None:
    # Given run-a's lease, one second before it expires
    clock = Clock()
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "run-a")
    clock.now += timedelta(seconds=599)
    # When run-b claims the table
    acquired = leases.acquire(TABLE, "run-b")
    # Then it is refused and run-a keeps the lease
    assert not acquired
    assert lease_of(dynamodb, leases_table)["run_id"] == "run-a"


def test_the_same_run_id_is_refused_while_its_lease_lives(
    dynamodb: DynamoDBClient, leases_table: str
) -> None:
    # Given a lease of run-a (a Step Functions retry starts a second job run with the same id)
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=Clock())
    assert leases.acquire(TABLE, "run-a")
    # When run-a claims the table again / Then it must wait like any other run
    assert not leases.acquire(TABLE, "run-a")


def test_a_lease_is_live_until_its_expiry_second_has_passed(
    dynamodb: DynamoDBClient, leases_table: str
) -> None:
    # Given run-a's lease at exactly its expiry second
    clock = Clock()
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "run-a")
    clock.now += timedelta(seconds=600)
    # When run-b claims the table / Then it is still refused ("lease_expires_at < :now")
    assert not leases.acquire(TABLE, "run-b")


def test_an_expired_lease_is_taken_over(dynamodb: DynamoDBClient, leases_table: str) -> None:
    # Given run-a crashed holding the lease, which has expired
    clock = Clock()
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "run-a")
    clock.now += timedelta(seconds=601)
    # When run-b claims the table
    acquired = leases.acquire(TABLE, "run-b")
    # Then run-b holds it, with a new expiry
    assert acquired
    lease = lease_of(dynamodb, leases_table)
    assert (lease["run_id"], lease["lease_expires_at"]) == (
        "run-b",
        str(int(clock.now.timestamp()) + 600),
    )


def test_the_holder_releases_and_the_table_is_free_again(
    dynamodb: DynamoDBClient, leases_table: str
) -> None:
    # Given run-a's lease
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=Clock())
    assert leases.acquire(TABLE, "run-a")
    # When run-a releases it
    released = leases.release(TABLE, "run-a")
    # Then the item is gone and another run can take the table at once
    assert released
    assert lease_of(dynamodb, leases_table) == {}
    assert leases.acquire(TABLE, "run-b")


def test_a_release_by_a_run_that_lost_the_lease_deletes_nothing(
    dynamodb: DynamoDBClient, leases_table: str
) -> None:
    # Given run-b took over run-a's expired lease
    clock = Clock()
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=clock)
    assert leases.acquire(TABLE, "run-a")
    clock.now += timedelta(hours=1)
    assert leases.acquire(TABLE, "run-b")
    # When the late run-a releases
    released = leases.release(TABLE, "run-a")
    # Then the conditional delete is refused and run-b keeps its lease
    assert not released
    assert lease_of(dynamodb, leases_table)["run_id"] == "run-b"


def test_releasing_a_lease_that_is_not_there_is_refused(
    dynamodb: DynamoDBClient, leases_table: str
) -> None:
    # Given no lease / When a run releases / Then nothing is deleted and it is told so
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=Clock())
    assert not leases.release(TABLE, "run-a")


def test_of_concurrent_claimers_exactly_one_wins(
    dynamodb: DynamoDBClient, leases_table: str
) -> None:
    # Given 8 runs claiming the same table at the same moment, each with its own client
    claimers = 8
    endpoint = dynamodb.meta.endpoint_url
    clients = [
        boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for _ in range(claimers)
    ]
    barrier = threading.Barrier(claimers)
    results: dict[str, bool] = {}

    def claim(number: int) -> None:
        leases = DynamoLeases(leases_table, 600, client=clients[number], clock=Clock())
        barrier.wait()
        results[f"run-{number}"] = leases.acquire(TABLE, f"run-{number}")

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(claimers)]
    # When they all try
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one holds the lease, and the item names that one
    winners = [run for run, won in results.items() if won]
    assert len(results) == claimers
    assert len(winners) == 1
    assert lease_of(dynamodb, leases_table)["run_id"] == winners[0]


def test_the_longest_partition_key_is_leased(dynamodb: DynamoDBClient, leases_table: str) -> None:
    # Given a source table name as long as a partition key may be (2,048 bytes)
    name = "s." + "t" * (MAX_PARTITION_KEY_BYTES - 2)
    leases = DynamoLeases(leases_table, 600, client=dynamodb, clock=Clock())
    # When leased and released / Then DynamoDB accepts both
    assert leases.acquire(name, "run-a")
    assert lease_of(dynamodb, leases_table, name)["run_id"] == "run-a"
    assert leases.release(name, "run-a")
