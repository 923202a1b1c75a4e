"""DynamoTaskLedger against moto, on ObjectTaskTable as template.yaml declares it."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from moto_dynamodb import template_tables
from object_rewriter_fakes import BUCKET, LANDED, NOW, SAMPLE_KEY, SAMPLE_VERSION
from object_task_samples import PURGE

from datalake_shared.object_tasks import ObjectTask, TaskOutcome, epoch_seconds, scheduled_item
from object_rewriter.fallback import ExpiredTask
from object_rewriter.ledger import DynamoTaskLedger
from object_rewriter.service import LedgerEntry

TABLE_NAME = "object-tasks-test"
TASK = ObjectTask.for_upload(BUCKET, SAMPLE_KEY, SAMPLE_VERSION, PURGE, LANDED)
LATER = NOW + timedelta(days=30)
TOMORROW = NOW + timedelta(hours=24)
EXPIRED = ExpiredTask(
    task=TASK,
    fallbacks=1,
    attempts=4,
    last_error="line 2 is not valid JSON",
    scheduled_at="2026-12-07T09:30:03Z",
)


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    with template_tables(sam_template, {"ObjectTaskTable": TABLE_NAME}) as client:
        yield client


@pytest.fixture
def ledger(dynamodb: Any) -> DynamoTaskLedger:
    return DynamoTaskLedger(TABLE_NAME, client=dynamodb)


def item(dynamodb: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = dynamodb.get_item(
        TableName=TABLE_NAME, Key={"task_id": {"S": TASK.task_id}}
    ).get("Item")
    return found


def schedule(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE_NAME, Item=scheduled_item(TASK, LANDED))


def test_load_reads_the_scheduled_task(dynamodb: Any, ledger: DynamoTaskLedger) -> None:
    schedule(dynamodb)
    assert ledger.load(TASK.task_id) == LedgerEntry(task=TASK, status="scheduled")


def test_load_of_a_missing_item_is_none(ledger: DynamoTaskLedger) -> None:
    assert ledger.load(TASK.task_id) is None


def test_finish_marks_the_item_done_and_drops_the_last_error(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    # Given a scheduled item with a failed attempt
    schedule(dynamodb)
    ledger.record_failure(TASK.task_id, "ClientError: PreconditionFailed")
    # When finished
    assert ledger.finish(TASK, TaskOutcome.APPLIED, NOW, LATER) is True
    # Then it is done, with the outcome, times and attempts, but no error
    stored = item(dynamodb)
    assert stored is not None
    assert stored["status"] == {"S": "done"}
    assert stored["outcome"] == {"S": "applied"}
    assert stored["finished_at"] == {"S": "2027-01-06T09:31:00Z"}
    assert stored["expires_at"] == {"N": str(epoch_seconds(LATER))}
    assert stored["attempts"] == {"N": "1"}
    assert "last_error" not in stored
    assert stored["scheduled_at"] == scheduled_item(TASK, LANDED)["scheduled_at"]


def test_finish_without_an_item_writes_one_holding_the_task(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    # Given the TTL removed the item (the fallback path) / When finished
    ledger.finish(TASK, TaskOutcome.SUPERSEDED, NOW, LATER)
    # Then a done item holds the task, so the ledger still tells what ran
    stored = item(dynamodb)
    assert stored is not None
    assert (stored["status"], stored["outcome"]) == ({"S": "done"}, {"S": "superseded"})
    assert ledger.load(TASK.task_id) == LedgerEntry(task=TASK, status="done")
    assert (stored["bucket"], stored["key"], stored["rule"]) == (
        {"S": BUCKET},
        {"S": SAMPLE_KEY},
        {"S": PURGE.name},
    )


def test_finishing_a_done_task_again_changes_nothing(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    schedule(dynamodb)
    ledger.finish(TASK, TaskOutcome.APPLIED, NOW, LATER)
    before = item(dynamodb)
    assert (
        ledger.finish(TASK, TaskOutcome.ALREADY_APPLIED, LATER, LATER + LATER.resolution) is False
    )
    assert item(dynamodb) == before


def test_record_failure_counts_attempts_and_keeps_the_latest_error(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    schedule(dynamodb)
    ledger.record_failure(TASK.task_id, "first")
    ledger.record_failure(TASK.task_id, "second")
    stored = item(dynamodb)
    assert stored is not None
    assert (stored["attempts"], stored["last_error"]) == ({"N": "2"}, {"S": "second"})
    assert stored["status"] == {"S": "scheduled"}


def test_record_failure_without_an_item_writes_nothing(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    # Given no item (the TTL removed it) / When a failure is recorded / Then no stray item
    ledger.record_failure(TASK.task_id, "ClientError: AccessDenied")
    assert item(dynamodb) is None


def test_requeue_writes_the_expired_task_back_scheduled_with_a_fresh_expiry(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    # Given the TTL removed the item (nothing in the table) / When the task is requeued
    assert ledger.requeue(EXPIRED, NOW, TOMORROW) is True
    # Then the scheduled item is back, expiring tomorrow, with one more fallback and what the
    # old item knew
    stored = item(dynamodb)
    assert stored is not None
    assert stored == {
        **scheduled_item(TASK, NOW),
        "expires_at": {"N": str(epoch_seconds(TOMORROW))},
        "fallbacks": {"N": "2"},
        "attempts": {"N": "4"},
        "last_error": {"S": "line 2 is not valid JSON"},
        "scheduled_at": {"S": "2026-12-07T09:30:03Z"},
    }
    assert ledger.load(TASK.task_id) == LedgerEntry(task=TASK, status="scheduled")


def test_requeue_after_a_requeue_writes_the_same_item(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    # Given the task requeued once / When the same stream record is retried
    ledger.requeue(EXPIRED, NOW, TOMORROW)
    before = item(dynamodb)
    assert ledger.requeue(EXPIRED, NOW, TOMORROW) is True
    # Then the item is unchanged: the fallback is counted once
    assert item(dynamodb) == before


@pytest.mark.parametrize("write", ["requeue", "abandon"])
def test_a_task_finished_meanwhile_is_neither_requeued_nor_abandoned(
    dynamodb: Any, ledger: DynamoTaskLedger, write: str
) -> None:
    # Given a late message finished the task after its item expired
    ledger.finish(TASK, TaskOutcome.APPLIED, NOW, LATER)
    before = item(dynamodb)
    # When the fallback writes the expired item back / Then it is refused, the done item stays
    assert getattr(ledger, write)(EXPIRED, NOW, TOMORROW) is False
    assert item(dynamodb) == before


def test_abandon_writes_a_failed_item_keeping_the_error_until_the_retention_ends(
    dynamodb: Any, ledger: DynamoTaskLedger
) -> None:
    # Given an expired task out of fallbacks / When abandoned
    assert ledger.abandon(EXPIRED, NOW, LATER) is True
    # Then its item is failed, with no outcome, the last error, and expires after the retention
    stored = item(dynamodb)
    assert stored is not None
    assert stored["status"] == {"S": "failed"}
    assert "outcome" not in stored
    assert (stored["last_error"], stored["attempts"], stored["fallbacks"]) == (
        {"S": "line 2 is not valid JSON"},
        {"N": "4"},
        {"N": "1"},
    )
    assert stored["expires_at"] == {"N": str(epoch_seconds(LATER))}
    assert stored["finished_at"] == {"S": "2027-01-06T09:31:00Z"}
