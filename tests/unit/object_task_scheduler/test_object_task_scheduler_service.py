"""ObjectTaskScheduler with in-memory fakes: which uploads get tasks, and redelivery."""

from datetime import timedelta

import pytest
from object_task_samples import MASK, PURGE
from object_task_scheduler_fakes import (
    BUCKET,
    ETAG,
    KEY,
    LANDED_AT,
    NOW,
    SOON,
    VERSION_ID,
    FakeAwsError,
    Fakes,
    event_of,
    object_created,
)

from datalake_shared.object_tasks import ORIGIN_METADATA, ObjectTask, task_id
from object_task_scheduler.planning import ScheduleAt, SendNow
from object_task_scheduler.service import TaskStep, UploadOutcome


def test_new_upload_gets_its_task_item_and_a_schedule_a_day_later(fakes: Fakes) -> None:
    # Given the uploaded object in S3 and the one-day PURGE rule
    fakes.heads.put()
    # When its "Object Created" event is scheduled
    result = fakes.scheduler().schedule(event_of(object_created()))
    # Then one task is recorded and scheduled for the landing time plus a day
    expected = ObjectTask.for_upload(BUCKET, KEY, VERSION_ID, PURGE, LANDED_AT)
    assert expected.origin_is_version
    assert result.outcome is UploadOutcome.TASKS
    assert [(t.step, t.task) for t in result.tasks] == [(TaskStep.SCHEDULED, expected)]
    assert fakes.tasks() == [expected]
    assert fakes.triggers.schedules == {expected.task_id: "at(2026-12-08T09:30:00)"}
    assert fakes.triggers.sent == []


def test_head_reads_the_version_the_event_names(fakes: Fakes) -> None:
    # Given the uploaded object / When scheduled
    fakes.heads.put()
    fakes.scheduler().schedule(event_of(object_created()))
    # Then HeadObject asked for that very version
    assert fakes.heads.calls == [(BUCKET, KEY, VERSION_ID)]


def test_task_due_within_fifteen_minutes_is_sent_now_with_a_delay(fakes: Fakes) -> None:
    # Given the object and the ten-minute SOON rule, two minutes five seconds after landing
    fakes.heads.put()
    # When scheduled
    result = fakes.scheduler((SOON,)).schedule(event_of(object_created()))
    # Then its message is sent now, delayed until it is due, and no schedule is made
    task = result.tasks[0].task
    assert result.tasks[0].step is TaskStep.SENT_NOW
    assert fakes.triggers.sent == [(task.task_id, 475)]
    assert fakes.triggers.schedules == {}


def test_every_matching_rule_gets_its_own_task(fakes: Fakes) -> None:
    # Given the object and three rules that all match its key
    fakes.heads.put()
    # When scheduled
    result = fakes.scheduler((PURGE, MASK, SOON)).schedule(event_of(object_created()))
    # Then each rule has its task, id and trigger
    assert [(t.task.rule.name, t.step, t.trigger) for t in result.tasks] == [
        ("purge-file-contents", TaskStep.SCHEDULED, ScheduleAt("at(2026-12-08T09:30:00)")),
        ("mask-emails", TaskStep.SCHEDULED, ScheduleAt("at(2027-01-06T09:30:00)")),
        ("drop-tokens", TaskStep.SENT_NOW, SendNow(475)),
    ]
    assert sorted(fakes.ledger.items) == sorted(
        task_id(BUCKET, KEY, VERSION_ID, rule.name) for rule in (PURGE, MASK, SOON)
    )


def test_redelivery_of_a_scheduled_task_ensures_its_schedule_without_a_second_one(
    fakes: Fakes,
) -> None:
    # Given an upload already scheduled
    fakes.heads.put()
    scheduler = fakes.scheduler()
    scheduler.schedule(event_of(object_created()))
    # When its event is delivered again
    result = scheduler.schedule(event_of(object_created()))
    # Then the trigger is ensured again, finds the schedule there (a conflict), and all is well
    assert [(t.step, t.trigger_created) for t in result.tasks] == [
        (TaskStep.ALREADY_SCHEDULED, False)
    ]
    assert len(fakes.triggers.calls) == 2
    assert len(fakes.triggers.schedules) == len(fakes.ledger.items) == 1


def test_redelivery_after_a_failed_trigger_creates_the_missing_schedule(fakes: Fakes) -> None:
    # Given an upload whose item was written but whose schedule could not be created
    fakes.heads.put()
    fakes.triggers.outages = 1
    scheduler = fakes.scheduler()
    with pytest.raises(FakeAwsError):
        scheduler.schedule(event_of(object_created()))
    assert len(fakes.ledger.items) == 1
    # When SQS redelivers the event
    result = scheduler.schedule(event_of(object_created()))
    # Then the item is found still scheduled and the schedule is created now
    assert [(t.step, t.trigger_created) for t in result.tasks] == [
        (TaskStep.ALREADY_SCHEDULED, True)
    ]
    assert list(fakes.triggers.schedules.values()) == ["at(2026-12-08T09:30:00)"]


def test_redelivery_after_the_task_ran_does_nothing_more(fakes: Fakes) -> None:
    # Given an upload scheduled and its task since done
    fakes.heads.put()
    scheduler = fakes.scheduler()
    first = scheduler.schedule(event_of(object_created()))
    fakes.ledger.finish(first.tasks[0].task.task_id)
    fakes.triggers.schedules.clear()  # Scheduler deleted it after it ran
    # When its event is delivered again
    result = scheduler.schedule(event_of(object_created()))
    # Then nothing is sent or scheduled again
    assert [t.step for t in result.tasks] == [TaskStep.ALREADY_DONE]
    assert len(fakes.triggers.calls) == 1
    assert fakes.triggers.schedules == {}


def test_redelivered_direct_send_is_sent_again_while_the_task_is_not_done(fakes: Fakes) -> None:
    # Given a task sent now (SOON) whose event comes back before the task ran
    fakes.heads.put()
    scheduler = fakes.scheduler((SOON,))
    scheduler.schedule(event_of(object_created()))
    # When redelivered: whether the first send reached the queue is unknown
    result = scheduler.schedule(event_of(object_created()))
    # Then the message is sent again (object_rewriter runs a task once, whatever the copies)
    assert [t.step for t in result.tasks] == [TaskStep.ALREADY_SCHEDULED]
    assert [delay for _, delay in fakes.triggers.sent] == [475, 475]


def test_object_written_by_the_rewriter_is_ignored(fakes: Fakes) -> None:
    # Given the version S3 holds carries the rewriter's origin mark
    fakes.heads.put(metadata={ORIGIN_METADATA: "Aa1Bb2Cc3Dd4"})
    # When its "Object Created" event is scheduled
    result = fakes.scheduler((PURGE, MASK)).schedule(event_of(object_created()))
    # Then it gets no task: no loop
    assert result.outcome is UploadOutcome.REWRITE
    assert (fakes.ledger.puts, fakes.triggers.calls) == ([], [])


def test_object_deleted_since_its_event_is_skipped(fakes: Fakes) -> None:
    # Given S3 no longer holds the version the event names
    # When scheduled
    result = fakes.scheduler().schedule(event_of(object_created()))
    # Then it is skipped: nothing to rewrite
    assert result.outcome is UploadOutcome.MISSING
    assert (fakes.ledger.puts, fakes.triggers.calls) == ([], [])


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        (object_created("dataset/uploads/2026/12/07/", size=0), UploadOutcome.IGNORED),
        (object_created(size=0), UploadOutcome.IGNORED),
        (object_created("exports/report.csv"), UploadOutcome.NO_RULE),
        (object_created(detail_type="Object Deleted"), UploadOutcome.NOT_CREATED),
    ],
)
def test_events_without_tasks_never_reach_s3(
    fakes: Fakes, body: dict[str, object], outcome: UploadOutcome
) -> None:
    # Given a folder marker, an empty object, a key no rule covers, or a deletion
    # When scheduled
    result = fakes.scheduler((PURGE, MASK)).schedule(event_of(body))
    # Then it gets no task, and neither S3, the ledger nor a trigger is called
    assert result.outcome is outcome
    assert (fakes.heads.calls, fakes.ledger.puts, fakes.triggers.calls) == ([], [], [])


def test_unversioned_upload_is_identified_by_its_etag(fakes: Fakes) -> None:
    # Given an unversioned bucket's object (no version id)
    fakes.heads.put(version_id=None)
    # When scheduled
    result = fakes.scheduler().schedule(event_of(object_created(version_id=None)))
    # Then the task's origin is the upload's ETag, flagged as not a version (the rewriter never
    # deletes it), and HeadObject read the key's latest
    assert [(t.task.origin, t.task.origin_is_version) for t in result.tasks] == [(ETAG, False)]
    assert fakes.heads.calls == [(BUCKET, KEY, None)]


def test_unversioned_object_overwritten_since_is_skipped(fakes: Fakes) -> None:
    # Given an unversioned key that now holds another upload (another ETag)
    fakes.heads.put(version_id=None, etag="0cc175b9c0f1b6a831c399e269772661")
    # When the first upload's event is scheduled
    result = fakes.scheduler().schedule(event_of(object_created(version_id=None)))
    # Then it is skipped: the newer upload has its own event and tasks
    assert result.outcome is UploadOutcome.REPLACED
    assert fakes.ledger.puts == []


def test_suspended_versioning_null_version_is_identified_by_its_etag(fakes: Fakes) -> None:
    # Given an object written while versioning was suspended (version id "null")
    fakes.heads.put(version_id="null")
    # When scheduled / Then its origin is its ETag ("null" names no upload), not a version
    result = fakes.scheduler().schedule(event_of(object_created(version_id="null")))
    assert [(t.task.origin, t.task.origin_is_version) for t in result.tasks] == [(ETAG, False)]


def test_task_is_due_after_the_event_time_not_the_processing_time(fakes: Fakes) -> None:
    # Given an event that landed three days before it is handled (a long backlog)
    fakes.heads.put()
    late = object_created(time=(NOW - timedelta(days=3)).isoformat())
    # When scheduled
    result = fakes.scheduler().schedule(event_of(late))
    # Then the one-day task is overdue and sent now without delay
    assert [(t.step, t.trigger) for t in result.tasks] == [(TaskStep.SENT_NOW, SendNow(0))]


def test_ledger_failure_raises_before_any_trigger(fakes: Fakes) -> None:
    # Given the table refusing the write
    fakes.heads.put()
    fakes.ledger.outages = 1
    # When scheduled / Then the error propagates (the record fails) and nothing was triggered
    with pytest.raises(FakeAwsError):
        fakes.scheduler().schedule(event_of(object_created()))
    assert fakes.triggers.calls == []
