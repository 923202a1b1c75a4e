"""CadenceScheduleReconciler on moto's Scheduler and DynamoDB: after a config is stored, each
stored cadence has its schedule in the stack's group, as the config says; repeating changes
nothing; ``schedule: none`` removes one; nothing outside the cadences' names is touched."""

import json
from typing import Any

import boto3
import pytest
from config_loader_fakes import config_dict

from datalake_shared.cadence_schedules import (
    RETRY_POLICY,
    CadenceScheduleReconciler,
    CadenceScheduleSettings,
    cadence_schedule_reconciler,
)
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import PipelineConfig

GROUP = "datalake-events-test-cadences"
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:batch-dispatch"
ROLE = "arn:aws:iam::123456789012:role/cadence-schedules"
DLQ = "arn:aws:sqs:us-east-1:123456789012:cadence-schedule-dlq"
ENVIRONMENT = {
    "CADENCE_SCHEDULE_GROUP": GROUP,
    "BATCH_DISPATCH_STATE_MACHINE_ARN": STATE_MACHINE,
    "CADENCE_SCHEDULE_ROLE_ARN": ROLE,
    "CADENCE_SCHEDULE_DLQ_ARN": DLQ,
    "CADENCE_SCHEDULES_STATE": "ENABLED",
    "SCHEDULE_TIMEZONE": "Europe/Paris",
}


def settings(**overrides: str) -> CadenceScheduleSettings:
    return CadenceScheduleSettings.model_validate({**ENVIRONMENT, **overrides})


def config(*batches: dict[str, Any]) -> PipelineConfig:
    return PipelineConfig.model_validate({"batches": list(batches), "tables": []})


def cadence(name: str, schedule: str | None = None) -> dict[str, Any]:
    (batch,) = config_dict([], cadences=[name])["batches"]
    return batch if schedule is None else {**batch, "schedule": schedule}


@pytest.fixture
def scheduler(dynamodb: Any) -> Any:
    """moto's Scheduler with the stack's group (inside the dynamodb fixture's mock)."""
    client = boto3.client("scheduler")
    client.create_schedule_group(Name=GROUP)
    return client


class Loader:
    """What the config loader does: store the file, then reconcile."""

    def __init__(self, store: PipelineConfigStore, scheduler: Any, **overrides: str) -> None:
        self.store = store
        self.reconciler: CadenceScheduleReconciler = cadence_schedule_reconciler(
            store, settings(**overrides), scheduler
        )

    def load(self, *batches: dict[str, Any]) -> dict[str, Any]:
        applied = config(*batches)
        self.store.apply(applied)
        return self.reconciler.reconcile(applied).summary()


@pytest.fixture
def loader(config_store: PipelineConfigStore, scheduler: Any) -> Loader:
    return Loader(config_store, scheduler)


def schedule(scheduler: Any, name: str, group: str = GROUP) -> dict[str, Any]:
    found: dict[str, Any] = scheduler.get_schedule(GroupName=group, Name=name)
    return found


def names(scheduler: Any, group: str = GROUP) -> list[str]:
    listed = scheduler.list_schedules(GroupName=group)["Schedules"]
    return sorted(s["Name"] for s in listed)


def test_each_cadence_gets_its_schedule_starting_its_runs(loader: Loader, scheduler: Any) -> None:
    # Given a config with hourly, daily and 15min cadences / When loaded
    summary = loader.load(cadence("hourly"), cadence("daily"), cadence("15min"))
    # Then each has a schedule named after it in the stack's group
    assert summary == {
        "created": ["15min", "daily", "hourly"],
        "updated": [],
        "removed": [],
        "unchanged": 0,
    }
    assert names(scheduler) == ["15min", "daily", "hourly"]
    # ...on its default expression, in the stack's time zone and state
    found = schedule(scheduler, "15min")
    assert found["ScheduleExpression"] == "rate(15 minutes)"
    assert schedule(scheduler, "daily")["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert (found["ScheduleExpressionTimezone"], found["State"]) == ("Europe/Paris", "ENABLED")
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"}
    # ...starting the dispatch state machine for that cadence, through the stack's role
    target = found["Target"]
    assert (target["Arn"], target["RoleArn"]) == (STATE_MACHINE, ROLE)
    assert json.loads(target["Input"]) == {"cadence": "15min"}
    assert target["RetryPolicy"] == RETRY_POLICY
    assert target["DeadLetterConfig"] == {"Arn": DLQ}


def test_loading_the_same_config_again_changes_nothing(loader: Loader, scheduler: Any) -> None:
    # Given a loaded config
    loader.load(cadence("hourly"), cadence("15min"))
    before = schedule(scheduler, "15min")["LastModificationDate"]
    # When the same file is loaded again (a retried upload event)
    summary = loader.load(cadence("hourly"), cadence("15min"))
    # Then no schedule is written
    assert summary == {"created": [], "updated": [], "removed": [], "unchanged": 2}
    assert schedule(scheduler, "15min")["LastModificationDate"] == before


def test_a_changed_expression_updates_the_schedule(loader: Loader, scheduler: Any) -> None:
    # Given 15min on its default rate
    loader.load(cadence("15min"))
    # When the config gives it a cron (every 15 minutes, office hours)
    summary = loader.load(cadence("15min", "cron(0/15 8-18 ? * MON-FRI *)"))
    # Then its schedule is updated in place
    assert summary["updated"] == ["15min"]
    assert schedule(scheduler, "15min")["ScheduleExpression"] == "cron(0/15 8-18 ? * MON-FRI *)"


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [
        ("CADENCE_SCHEDULES_STATE", "DISABLED", "State"),
        ("SCHEDULE_TIMEZONE", "UTC", "ScheduleExpressionTimezone"),
    ],
)
def test_a_changed_stack_setting_updates_every_schedule(
    config_store: PipelineConfigStore, scheduler: Any, setting: str, value: str, field: str
) -> None:
    # Given schedules made with the stack's settings
    Loader(config_store, scheduler).load(cadence("hourly"), cadence("daily"))
    # When the stack's state or time zone changes and a config is loaded
    summary = Loader(config_store, scheduler, **{setting: value}).load(cadence("hourly"))
    # Then every stored cadence's schedule follows, not only the file's
    assert summary["updated"] == ["daily", "hourly"]
    assert {schedule(scheduler, name)[field] for name in ("daily", "hourly")} == {value}


def test_schedule_none_removes_the_schedule(loader: Loader, scheduler: Any) -> None:
    # Given hourly and 15min scheduled
    loader.load(cadence("hourly"), cadence("15min"))
    # When 15min is given schedule: none
    summary = loader.load(cadence("15min", "none"))
    # Then its schedule is gone, the other kept
    assert summary == {"created": [], "updated": [], "removed": ["15min"], "unchanged": 1}
    assert names(scheduler) == ["hourly"]
    # ...and loading it again removes nothing more
    assert loader.load(cadence("15min", "none"))["removed"] == []


def test_a_cadence_the_file_does_not_mention_keeps_its_schedule(
    loader: Loader, scheduler: Any
) -> None:
    # Given hourly and daily stored; then a file with hourly only (the store keeps daily)
    loader.load(cadence("hourly"), cadence("daily"))
    loader.load(cadence("hourly"))
    # Then daily's schedule stays, as its stored config does
    assert names(scheduler) == ["daily", "hourly"]


def test_schedules_outside_the_cadences_are_left_alone(loader: Loader, scheduler: Any) -> None:
    # Given a schedule named like a cadence in the default group, and another in the group
    other = {
        "ScheduleExpression": "rate(5 minutes)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": STATE_MACHINE, "RoleArn": ROLE, "Input": "{}"},
    }
    scheduler.create_schedule(Name="hourly", **other)
    scheduler.create_schedule(Name="hand-made", GroupName=GROUP, **other)
    # When a config is loaded, then hourly stopped
    loader.load(cadence("hourly"))
    loader.load(cadence("hourly", "none"))
    # Then both are as they were
    assert schedule(scheduler, "hourly", group="default")["ScheduleExpression"] == "rate(5 minutes)"
    assert names(scheduler) == ["hand-made"]


def test_a_schedule_created_meanwhile_is_updated_not_an_error(
    config_store: PipelineConfigStore, scheduler: Any
) -> None:
    # Given a concurrent load that creates 15min between this one's read and its create
    loader = Loader(config_store, scheduler)
    group = loader.reconciler.schedules
    real_get = group.get

    def get_then_race(name: str) -> dict[str, Any] | None:
        found = real_get(name)
        if found is None:
            Loader(config_store, scheduler, SCHEDULE_TIMEZONE="UTC").load(cadence(name))
        return found

    group.get = get_then_race  # type: ignore[method-assign]
    # When this load creates it / Then it ends as this load's config says
    loader.load(cadence("15min"))
    assert schedule(scheduler, "15min")["ScheduleExpressionTimezone"] == "Europe/Paris"


def test_settings_refuse_a_target_that_is_not_a_state_machine() -> None:
    with pytest.raises(ValueError, match="BATCH_DISPATCH_STATE_MACHINE_ARN"):
        settings(BATCH_DISPATCH_STATE_MACHINE_ARN="arn:aws:lambda:us-east-1:1:function:f")
