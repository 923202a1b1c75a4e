"""Pure planning: which rules match, and how (and when) each task is triggered."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from object_task_samples import MASK, PURGE
from object_task_scheduler_fakes import BUCKET, KEY, LANDED_AT, NOW, SOON

from datalake_shared.object_tasks import DIRECT_SEND_WITHIN, ObjectTask, ObjectTaskRule
from object_task_scheduler.planning import (
    MAX_DESCRIPTION_LENGTH,
    ScheduleAt,
    SendNow,
    ceil_to_second,
    delay_seconds,
    is_ignored_object,
    matching_rules,
    plan_trigger,
    schedule_description,
    schedule_expression,
)


def task_due(due_at: datetime, rule: ObjectTaskRule = PURGE, key: str = KEY) -> ObjectTask:
    return ObjectTask.for_upload(BUCKET, key, "v1", rule, due_at - rule.delay)


# --- which objects and rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "size", "ignored"),
    [
        ("dataset/uploads/2026/12/07/", 0, True),
        ("dataset/uploads/2026/12/07/", 12, True),
        ("dataset/uploads/empty.json", 0, True),
        (KEY, 1, False),
    ],
)
def test_folder_markers_and_empty_objects_are_ignored(key: str, size: int, ignored: bool) -> None:
    # Given a key and size / Then only data-bearing objects are kept
    assert is_ignored_object(key, size) is ignored


def test_every_rule_whose_prefix_matches_applies_in_configured_order() -> None:
    # Given rules on "dataset/", "dataset/uploads/" and an unrelated prefix
    other = PURGE.model_copy(update={"name": "other", "prefix": "exports/"})
    # When matched against an upload key / Then both dataset rules apply, in order
    assert matching_rules((MASK, other, PURGE), KEY) == (MASK, PURGE)


def test_no_rule_matches_a_key_outside_every_prefix() -> None:
    # Given a key outside the rules' prefixes / Then none applies
    assert matching_rules((PURGE, MASK), "exports/2026/12/07/report.csv") == ()


_segment = st.text(alphabet="abc/", min_size=1, max_size=6)


@given(prefixes=st.lists(_segment, max_size=5), key=st.text(alphabet="abc/", max_size=12))
def test_matching_rules_are_exactly_those_whose_prefix_starts_the_key(
    prefixes: list[str], key: str
) -> None:
    # Given any rules and key
    rules = tuple(
        PURGE.model_copy(update={"name": f"r{index}", "prefix": prefix})
        for index, prefix in enumerate(prefixes)
    )
    # When matched / Then a rule applies iff the key starts with its prefix
    assert [rule.name for rule in matching_rules(rules, key)] == [
        f"r{index}" for index, prefix in enumerate(prefixes) if key.startswith(prefix)
    ]


# --- direct send or schedule ------------------------------------------------------------------


def test_task_due_in_exactly_fifteen_minutes_is_sent_now_with_the_longest_delay() -> None:
    # Given a task due exactly DIRECT_SEND_WITHIN from now
    task = task_due(NOW + DIRECT_SEND_WITHIN)
    # When planned / Then it is sent now, delayed 900 seconds
    assert plan_trigger(task, NOW) == SendNow(900)


def test_task_due_a_microsecond_after_fifteen_minutes_is_scheduled() -> None:
    # Given a task due just past the direct-send window
    task = task_due(NOW + DIRECT_SEND_WITHIN + timedelta(microseconds=1))
    # When planned / Then it gets a schedule at the next whole second
    assert plan_trigger(task, NOW) == ScheduleAt("at(2026-12-07T09:47:06)")


def test_task_due_in_ten_minutes_is_sent_with_the_remaining_delay() -> None:
    # Given the SOON rule's task for an upload that landed two minutes and five seconds ago
    task = ObjectTask.for_upload(BUCKET, KEY, "v1", SOON, LANDED_AT)
    # When planned / Then its message is delayed by what is left of the ten minutes
    assert plan_trigger(task, NOW) == SendNow(475)


def test_overdue_task_is_sent_without_delay() -> None:
    # Given a task that was due an hour ago (a late or replayed event)
    task = task_due(NOW - timedelta(hours=1))
    # When planned / Then it is sent now, undelayed
    assert plan_trigger(task, NOW) == SendNow(0)


@pytest.mark.parametrize(
    ("remaining", "delay"),
    [
        (timedelta(seconds=-5), 0),
        (timedelta(0), 0),
        (timedelta(microseconds=1), 1),
        (timedelta(seconds=59, microseconds=999_999), 60),
        (timedelta(seconds=899, microseconds=1), 900),
        (timedelta(seconds=900), 900),
        (timedelta(hours=2), 900),
    ],
)
def test_delay_is_rounded_up_and_clamped_to_what_sqs_allows(
    remaining: timedelta, delay: int
) -> None:
    # Given the time left until a task is due / Then the SQS delay in whole seconds
    assert delay_seconds(remaining) == delay


@given(remaining=st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)))
def test_plan_is_a_send_iff_due_within_fifteen_minutes_and_never_early(
    remaining: timedelta,
) -> None:
    # Given a task due ``remaining`` from now
    task = task_due(NOW + remaining)
    # When planned
    trigger = plan_trigger(task, NOW)
    # Then within the window it is sent with a delay (0..900 s) that is not early
    if remaining <= DIRECT_SEND_WITHIN:
        assert isinstance(trigger, SendNow)
        assert 0 <= trigger.delay_seconds <= 900
        assert NOW + timedelta(seconds=trigger.delay_seconds) >= task.due_at
        if remaining > timedelta(0):
            assert trigger.delay_seconds < remaining.total_seconds() + 1
    # And beyond it, scheduled
    else:
        assert isinstance(trigger, ScheduleAt)


# --- the schedule expression ------------------------------------------------------------------


def test_schedule_expression_of_a_whole_second_is_that_second() -> None:
    # Given a due time on a whole second / Then the expression names it as is
    assert (
        schedule_expression(datetime(2026, 12, 8, 9, 30, tzinfo=UTC)) == "at(2026-12-08T09:30:00)"
    )


def test_schedule_expression_rounds_a_fraction_of_a_second_up() -> None:
    # Given a due time half a second before midnight of New Year's Eve
    due = datetime(2026, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    # Then the expression names the next second, in the next year
    assert schedule_expression(due) == "at(2027-01-01T00:00:00)"


def test_schedule_expression_is_written_in_utc() -> None:
    # Given a due time in another time zone (UTC+2)
    due = datetime(2026, 12, 8, 13, 30, tzinfo=timezone(timedelta(hours=2)))
    # Then the expression is the same instant in UTC
    assert schedule_expression(due) == "at(2026-12-08T11:30:00)"


_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


@given(
    due=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
    )
)
def test_schedule_expression_is_the_first_whole_second_not_before_the_due_time(
    due: datetime,
) -> None:
    # Given any due time / When written as a schedule expression
    match = _AT.match(schedule_expression(due))
    # Then it parses back to a whole second in [due, due + 1 s)
    assert match is not None
    at = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
    assert due <= at < due + timedelta(seconds=1)
    assert at == ceil_to_second(due)


# --- the description --------------------------------------------------------------------------


def test_description_names_the_rule_and_the_object() -> None:
    # Given a task / Then its schedule's description names its rule and object
    assert schedule_description(task_due(NOW + timedelta(days=1))) == (
        f"purge-file-contents: s3://{BUCKET}/{KEY}"
    )


def test_description_of_a_long_key_is_cut_to_the_schedulers_limit() -> None:
    # Given a task for a 1,000-character key
    task = task_due(NOW + timedelta(days=1), key="dataset/" + "k" * 992)
    # Then its description is cut to 512 characters
    description = schedule_description(task)
    assert len(description) == MAX_DESCRIPTION_LENGTH
    assert description.startswith("purge-file-contents: s3://")
