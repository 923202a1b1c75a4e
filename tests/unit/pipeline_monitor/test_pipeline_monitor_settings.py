from collections.abc import Iterator
from typing import Any

import pytest
from settings_support import clean_settings, set_variables, template_variables, variables_read

from datalake_shared.settings import SettingsError
from pipeline_monitor.records import Severity
from pipeline_monitor.settings import PipelineMonitorSettings, get_settings

ENV_VARS = (
    "MONITOR_BUCKET",
    "MONITOR_PREFIX",
    "SLACK_WEBHOOK_SECRET",
    "IDEMPOTENCY_TABLE",
    "ALERT_ON",
    "SLACK_ALLOW_LOCAL_WEBHOOK",
    "EVENT_BUS_NAME",
)
REQUIRED = {
    "MONITOR_BUCKET": "monitor-bucket",
    "SLACK_WEBHOOK_SECRET": "datalake-events/slack-webhook",
    "IDEMPOTENCY_TABLE": "idempotency",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV_VARS, get_settings):
        yield


def with_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> PipelineMonitorSettings:
    set_variables(monkeypatch, {**REQUIRED, **extra})
    return get_settings()


def test_defaults_apply_when_only_the_required_variables_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given only the required variables / When settings load / Then the rest take defaults
    settings = with_env(monkeypatch)
    assert settings.monitor_prefix == "monitoring-events/"
    assert settings.alert_on == frozenset({Severity.ERROR})
    assert settings.slack_allow_local_webhook is False
    assert settings.event_bus_name == "default"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_missing_required_variable_is_named(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # Given every required variable but one
    set_variables(monkeypatch, REQUIRED, leave_out=name)
    # When settings load / Then the error names the missing one
    with pytest.raises(SettingsError, match=name):
        get_settings()


def test_alert_on_takes_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given ALERT_ON="error, Warning" / Then both severities alert
    settings = with_env(monkeypatch, ALERT_ON="error, Warning")
    assert settings.alert_on == frozenset({Severity.ERROR, Severity.WARNING})


def test_unknown_severity_in_alert_on_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a typo / Then the error names the variable
    with pytest.raises(SettingsError, match="ALERT_ON"):
        with_env(monkeypatch, ALERT_ON="eror")


def test_webhook_url_in_place_of_the_secret_name_is_rejected_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the URL itself put in SLACK_WEBHOOK_SECRET by mistake
    url = "https://hooks.slack.com/services/T0/B0/very-secret-token"
    # When settings load / Then it is refused and the message does not repeat the URL
    with pytest.raises(SettingsError, match="SLACK_WEBHOOK_SECRET") as raised:
        with_env(monkeypatch, SLACK_WEBHOOK_SECRET=url)
    assert "very-secret-token" not in str(raised.value)


def test_prefix_gets_a_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a prefix typed without its slash / Then keys still land under that folder
    assert with_env(monkeypatch, MONITOR_PREFIX="/monitoring").monitor_prefix == "monitoring/"


def test_local_webhook_flag_reads_true(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SLACK_ALLOW_LOCAL_WEBHOOK=true (the local sink) / Then it is on
    assert with_env(monkeypatch, SLACK_ALLOW_LOCAL_WEBHOOK="true").slack_allow_local_webhook


def test_settings_read_the_variables_the_template_sets(sam_template: dict[str, Any]) -> None:
    # Given the function in template.yaml
    provided = template_variables(sam_template, "PipelineMonitorFunction")
    # Then every variable the settings read without a default is set by the template
    assert variables_read(PipelineMonitorSettings, required_only=True) <= provided


def test_prefix_too_long_for_the_keys_under_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a MONITOR_PREFIX of 600 bytes / When loaded / Then it is refused, naming it
    with pytest.raises(SettingsError, match="MONITOR_PREFIX"):
        with_env(monkeypatch, MONITOR_PREFIX="m" * 599 + "/")
