from collections.abc import Iterator
from typing import Any

import pytest
from alert_fakes import IDEMPOTENCY_TABLE, WEBHOOK_SECRET, AlertAws
from lambda_support import FakeLambdaContext
from redshift_audit_fakes import BUCKET, app
from redshift_audit_payloads import event_with
from settings_support import clean_settings, set_variables, template_variables, variables_read

from datalake_shared.settings import SettingsError
from local_runtime.slack_sink import SlackSink
from redshift_audit.settings import RedshiftAuditSettings, get_settings

ENV_VARS = (
    "AUDIT_BUCKET",
    "AUDIT_PREFIX",
    "SLACK_WEBHOOK_SECRET",
    "IDEMPOTENCY_TABLE",
    "SLACK_ALLOW_LOCAL_WEBHOOK",
    "IGNORE_USERS",
    "EVENT_BUS_NAME",
)
REQUIRED = {
    "AUDIT_BUCKET": BUCKET,
    "SLACK_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV_VARS, get_settings, app.default_auditor):
        yield


def with_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> RedshiftAuditSettings:
    set_variables(monkeypatch, {**REQUIRED, **extra})
    return get_settings()


def test_defaults_apply_when_only_the_required_variables_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = with_env(monkeypatch)
    assert settings.audit_prefix == "redshift-audit/"
    assert settings.ignore_users == frozenset({"rdsdb"})
    assert settings.slack_allow_local_webhook is False
    assert settings.event_bus_name == "default"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_missing_required_variable_is_named(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    set_variables(monkeypatch, REQUIRED, leave_out=name)
    with pytest.raises(SettingsError, match=name):
        get_settings()


def test_ignore_users_takes_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert with_env(monkeypatch, IGNORE_USERS="rdsdb, etl_bot").ignore_users == frozenset(
        {"rdsdb", "etl_bot"}
    )


def test_empty_ignore_users_audits_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert with_env(monkeypatch, IGNORE_USERS="").ignore_users == frozenset()


def test_webhook_url_in_place_of_the_secret_name_is_rejected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SettingsError, match="SLACK_WEBHOOK_SECRET") as raised:
        with_env(monkeypatch, SLACK_WEBHOOK_SECRET="https://hooks.slack.com/services/T/B/tok3n")
    assert "tok3n" not in str(raised.value)


def test_handler_built_from_the_environment_audits_and_posts(
    monkeypatch: pytest.MonkeyPatch, aws: AlertAws, sink: SlackSink
) -> None:
    # Given the function's environment and no injected collaborators
    with_env(monkeypatch, SLACK_ALLOW_LOCAL_WEBHOOK="true")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "redshift-audit-test")
    # When Lambda calls the handler with a DROP
    response = app.lambda_handler(event_with("drop table sales.orders;"), FakeLambdaContext())
    # Then it is stored, posted, and recorded in the idempotency table under its own prefix
    assert (response["sensitive_statements"], response["alerts_posted"]) == (1, 1)
    assert len(sink.delivered()) == 1
    [item] = aws.dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]
    assert item["id"]["S"].startswith(f"{app.IDEMPOTENCY_KEY_PREFIX}#")


def test_settings_read_the_variables_the_template_sets(sam_template: dict[str, Any]) -> None:
    provided = template_variables(sam_template, "RedshiftAuditFunction")
    assert variables_read(RedshiftAuditSettings, required_only=True) <= provided


def test_prefix_too_long_for_the_keys_under_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an AUDIT_PREFIX of 600 bytes: with the date and the id a key would near S3's 1,024
    # When loaded / Then it is refused at start-up, naming the variable
    with pytest.raises(SettingsError, match="AUDIT_PREFIX"):
        with_env(monkeypatch, AUDIT_PREFIX="a" * 599 + "/")
