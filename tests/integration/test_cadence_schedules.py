"""A cadence added by config, end to end on the deployed template: the config upload → the
config loader → a schedule in the stack's cadence group → fired → the batch dispatch state
machine runs for that cadence; then its expression changed, then removed, by config alone."""

import json
from typing import Any

import pytest

from config_loader.service import CONFIG_APPLIED
from local_runtime import LocalRuntime
from tests.integration.test_batch_dispatch import example_config, upload_config

pytestmark = pytest.mark.dynamodb_incidental


def with_15min(schedule: str | None = None) -> dict[str, Any]:
    """The example config (which has a 15min cadence), 15min's schedule set as given."""
    config = example_config()
    (batch,) = [b for b in config["batches"] if b["cadence"] == "15min"]
    batch["schedule"] = schedule
    return config


def group(runtime: LocalRuntime) -> str:
    return runtime.stack.resources["CadenceScheduleGroup"]


def schedule(runtime: LocalRuntime, name: str) -> dict[str, Any]:
    found: dict[str, Any] = runtime.client("scheduler").get_schedule(
        GroupName=group(runtime), Name=name
    )
    return found


def scheduled(runtime: LocalRuntime) -> list[str]:
    listed = runtime.client("scheduler").list_schedules(GroupName=group(runtime))["Schedules"]
    return sorted(s["Name"] for s in listed)


def applied_events(runtime: LocalRuntime) -> list[dict[str, Any]]:
    return [e.detail for e in runtime.activity.published if e.detail_type == CONFIG_APPLIED]


def test_a_cadence_added_by_config_gets_a_schedule_that_runs_it(runtime: LocalRuntime) -> None:
    # Given the example config, which adds a 15min cadence, uploaded
    upload_config(runtime, with_15min())

    # Then the loader made one schedule per cadence, 15min on its default rate
    assert scheduled(runtime) == ["15min", "daily", "hourly"]
    found = schedule(runtime, "15min")
    assert found["ScheduleExpression"] == "rate(15 minutes)"
    assert found["Target"]["Arn"] == runtime.outputs["BatchDispatchStateMachineArn"]
    assert json.loads(found["Target"]["Input"]) == {"cadence": "15min"}
    [applied] = applied_events(runtime)
    assert applied["reconciled"]["cadence_schedules"]["created"] == ["15min", "daily", "hourly"]

    # When the 15min schedule fires
    arn = runtime.fire_schedule("15min")
    runtime.settle()

    # Then the dispatch state machine ran for the 15min cadence (no tables yet: no batch)
    execution = runtime.stepfunctions_bridge.describe(arn)
    assert execution["stateMachineArn"] == runtime.outputs["BatchDispatchStateMachineArn"]
    assert json.loads(execution["input"]) == {"cadence": "15min"}
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert json.loads(execution["output"])["batch_count"] == 0


def test_changing_a_cadence_schedule_in_the_config_updates_it(runtime: LocalRuntime) -> None:
    # Given 15min scheduled on its default rate
    upload_config(runtime, with_15min())

    # When the config gives it another expression
    upload_config(runtime, with_15min("cron(0/15 6-22 * * ? *)"))

    # Then the same schedule now runs on it, and nothing else changed
    assert schedule(runtime, "15min")["ScheduleExpression"] == "cron(0/15 6-22 * * ? *)"
    reconciled = applied_events(runtime)[-1]["reconciled"]["cadence_schedules"]
    assert reconciled == {"created": [], "updated": ["15min"], "removed": [], "unchanged": 2}


def test_removing_a_cadence_schedule_by_config_deletes_it(runtime: LocalRuntime) -> None:
    # Given 15min scheduled
    upload_config(runtime, with_15min())

    # When the config says schedule: none
    upload_config(runtime, with_15min("none"))

    # Then its schedule is gone (the other cadences keep theirs) and cannot fire
    assert scheduled(runtime) == ["daily", "hourly"]
    with pytest.raises(KeyError, match="15min"):
        runtime.fire_schedule("15min")


def test_an_unknown_cadence_without_a_schedule_is_rejected(runtime: LocalRuntime) -> None:
    # Given a config adding a "weekly" cadence without saying when it runs
    config = example_config()
    config["batches"].append({"cadence": "weekly", "batch_size": 1, "max_parallel_batches": 1})

    # When uploaded
    upload_config(runtime, config, name="weekly")

    # Then nothing is applied or scheduled, and the report says what to write
    report = runtime.s3.get_object(
        Bucket=runtime.outputs["ConfigBucketName"], Key="config/weekly.json.rejected.txt"
    )["Body"].read()
    assert b"'weekly' has no default schedule" in report
    assert scheduled(runtime) == []
