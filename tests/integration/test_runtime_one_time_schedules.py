"""The local scheduler bridge fires one-time schedules as EventBridge Scheduler does: once, when
due on the schedules' clock, in their time zone, only when enabled, deleted afterwards only when
their ActionAfterCompletion says DELETE."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_runtime import LocalRuntime

pytestmark = pytest.mark.dynamodb_incidental


def _create(runtime: LocalRuntime, name: str, at: datetime, **extra: Any) -> None:
    sqs = runtime.sqs
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=runtime.outputs["ObjectTaskDLQUrl"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    runtime.client("scheduler").create_schedule(
        Name=name,
        GroupName=runtime.outputs["ObjectTaskScheduleGroupName"],
        ScheduleExpression=f"at({at:%Y-%m-%dT%H:%M:%S})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": queue_arn,
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": json.dumps({"name": name}),
        },
        **extra,
    )


def _bodies(runtime: LocalRuntime) -> list[str]:
    messages = runtime.sqs.receive_message(
        QueueUrl=runtime.outputs["ObjectTaskDLQUrl"], MaxNumberOfMessages=10
    ).get("Messages", [])
    return sorted(json.loads(m["Body"])["name"] for m in messages)


def _names(runtime: LocalRuntime) -> list[str]:
    group = runtime.outputs["ObjectTaskScheduleGroupName"]
    listed = runtime.client("scheduler").list_schedules(GroupName=group)["Schedules"]
    return sorted(s["Name"] for s in listed)


def test_a_one_time_schedule_fires_once_when_due_and_only_then(runtime: LocalRuntime) -> None:
    # Given a schedule due in a day, kept after it runs
    _create(runtime, "kept", datetime.now(UTC) + timedelta(days=1), ActionAfterCompletion="NONE")
    # When the clock has not reached it / Then nothing fires
    assert runtime.advance_clock(timedelta(hours=23)) == []
    # When it has / Then it fires once, stays, and never fires again
    assert len(runtime.advance_clock(timedelta(hours=2))) == 1
    assert runtime.advance_clock(timedelta(days=1)) == []
    assert (_bodies(runtime), _names(runtime)) == (["kept"], ["kept"])


def test_a_schedule_that_deletes_itself_is_gone_after_firing(runtime: LocalRuntime) -> None:
    # Given a schedule due in an hour that deletes itself after completion
    _create(runtime, "gone", datetime.now(UTC) + timedelta(hours=1), ActionAfterCompletion="DELETE")
    # When it is due / Then it fired and no longer exists
    assert len(runtime.advance_clock(timedelta(hours=2))) == 1
    assert (_bodies(runtime), _names(runtime)) == (["gone"], [])


def test_a_disabled_schedule_never_fires(runtime: LocalRuntime) -> None:
    # Given a disabled schedule already past its time
    _create(runtime, "off", datetime.now(UTC) + timedelta(minutes=5), State="DISABLED")
    # When the clock passes it / Then nothing is sent
    assert runtime.advance_clock(timedelta(days=2)) == []
    assert _bodies(runtime) == []


def test_the_time_is_read_in_the_schedules_time_zone(runtime: LocalRuntime) -> None:
    # Given a schedule at a wall-clock time in Tokyo (UTC+9), 10 hours from now in UTC
    tokyo = datetime.now(UTC) + timedelta(hours=10 + 9)
    _create(runtime, "tokyo", tokyo, ScheduleExpressionTimezone="Asia/Tokyo")
    # When 9 hours pass / Then it is not due yet; after 11 hours it is
    assert runtime.advance_clock(timedelta(hours=9)) == []
    assert len(runtime.advance_clock(timedelta(hours=2))) == 1
