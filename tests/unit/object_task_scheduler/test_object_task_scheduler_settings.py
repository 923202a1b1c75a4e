import json
from collections.abc import Iterator

import pytest
from object_task_samples import MASK, PURGE
from settings_support import clean_settings, set_variables, variables_read

from datalake_shared.settings import SettingsError
from object_task_scheduler.handler import default_scheduler
from object_task_scheduler.settings import ObjectTaskSchedulerSettings, get_settings

RULES_JSON = json.dumps([PURGE.model_dump(mode="json"), MASK.model_dump(mode="json")])
VARIABLES = {
    "OBJECT_TASK_TABLE": "datalake-events-ObjectTaskTable",
    "OBJECT_TASK_RULES": RULES_JSON,
    "TASK_QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:datalake-events-ObjectTaskQueue",
    "TASK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/datalake-events-ObjectTaskQueue",
    "SCHEDULE_GROUP": "datalake-events-object-tasks",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/datalake-events-ObjectTaskSchedulerRole",
    "SCHEDULE_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:datalake-events-ObjectTaskScheduleDLQ",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    names = variables_read(ObjectTaskSchedulerSettings)
    with clean_settings(monkeypatch, names, get_settings, default_scheduler):
        yield


def test_settings_hold_the_parsed_rules_and_the_default_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given every required variable
    set_variables(monkeypatch, VARIABLES)
    # When settings load
    settings = get_settings()
    # Then the rules are parsed and the fallback grace defaults to a day
    assert settings.object_task_rules == (PURGE, MASK)
    assert settings.fallback_grace_hours == 24


def test_settings_read_exactly_the_documented_variables() -> None:
    # Given the settings model / Then it reads these variables (the template must set them)
    assert variables_read(ObjectTaskSchedulerSettings) == {*VARIABLES, "FALLBACK_GRACE_HOURS"}


@pytest.mark.parametrize("missing", sorted(VARIABLES))
def test_each_missing_variable_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    # Given all variables but one
    set_variables(monkeypatch, VARIABLES, leave_out=missing)
    # When settings load / Then the error names it
    with pytest.raises(SettingsError, match=missing):
        get_settings()


def test_bad_rule_fails_at_load_naming_the_rule_and_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a second rule with an unknown action
    bad = json.loads(RULES_JSON)
    bad[1]["action"] = "shred"
    set_variables(monkeypatch, {**VARIABLES, "OBJECT_TASK_RULES": json.dumps(bad)})
    # When settings load / Then the error names the variable, the rule and its field
    with pytest.raises(SettingsError, match=r"OBJECT_TASK_RULES: .*rule 1: action"):
        get_settings()


def test_rules_that_are_not_json_fail_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given rules that are not JSON
    set_variables(monkeypatch, {**VARIABLES, "OBJECT_TASK_RULES": "[{"})
    # When settings load / Then the error says so
    with pytest.raises(SettingsError, match=r"OBJECT_TASK_RULES: .*is not JSON"):
        get_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FALLBACK_GRACE_HOURS", "0"),
        ("SCHEDULE_GROUP", "object tasks"),
        ("TASK_QUEUE_ARN", "datalake-events-ObjectTaskQueue"),
        ("TASK_QUEUE_URL", "datalake-events-ObjectTaskQueue"),
    ],
)
def test_invalid_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    # Given one invalid value
    set_variables(monkeypatch, {**VARIABLES, name: value})
    # When settings load / Then the error names the variable
    with pytest.raises(SettingsError, match=name):
        get_settings()


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings loaded once
    set_variables(monkeypatch, VARIABLES)
    first = get_settings()
    # When the environment changes afterwards / Then the cached settings are returned
    monkeypatch.setenv("OBJECT_TASK_TABLE", "other")
    assert get_settings() is first
