"""The handler as Lambda runs it: everything built from the environment, nothing injected."""

from collections.abc import Iterator

import pytest
from alert_fakes import IDEMPOTENCY_TABLE, WEBHOOK_SECRET, AlertAws
from lambda_support import CapturedLogs, FakeLambdaContext
from pipeline_monitor_fakes import BUCKET, app, load_event
from settings_support import clean_settings, set_variables

from datalake_shared.settings import SettingsError
from local_runtime.slack_sink import SlackSink
from pipeline_monitor.settings import get_settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, aws: AlertAws) -> Iterator[None]:
    set_variables(
        monkeypatch,
        {
            "MONITOR_BUCKET": BUCKET,
            "SLACK_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
            "SLACK_ALLOW_LOCAL_WEBHOOK": "true",
            "AWS_LAMBDA_FUNCTION_NAME": "pipeline-monitor-test",
        },
    )
    with clean_settings(monkeypatch, (), get_settings, app.default_monitor):
        yield


@pytest.mark.usefixtures("environment")
def test_handler_built_from_the_environment_stores_and_posts(
    aws: AlertAws, sink: SlackSink
) -> None:
    # Given the function's environment (secret name, table, bucket) and no injected collaborators
    # When Lambda calls the handler with a failure
    response = app.lambda_handler(load_event("glue_job_failed.json"), FakeLambdaContext())
    # Then the record is in the bucket, Slack got the message and the idempotency table knows it
    assert response["alerts"] == {"posted": 1}
    assert len(aws.stored_records()) == 1
    assert len(sink.delivered()) == 1
    [item] = aws.idempotency_items()
    assert item["id"]["S"].startswith(f"{app.IDEMPOTENCY_KEY_PREFIX}#")
    assert item["status"]["S"] == "COMPLETED"


@pytest.mark.usefixtures("environment")
def test_local_webhook_is_refused_unless_allowed(
    aws: AlertAws, sink: SlackSink, monkeypatch: pytest.MonkeyPatch, logs: CapturedLogs
) -> None:
    # Given the secret holding the local sink URL but SLACK_ALLOW_LOCAL_WEBHOOK unset
    monkeypatch.delenv("SLACK_ALLOW_LOCAL_WEBHOOK")
    get_settings.cache_clear()
    # When a failure is handled
    with pytest.raises(app.MonitorFailedError):
        app.lambda_handler(load_event("glue_job_failed.json"), FakeLambdaContext())
    # Then nothing was posted, the record is stored, and the log says why without the URL
    assert sink.received == []
    assert len(aws.stored_records()) == 1
    [error] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert "SLACK_ALLOW_LOCAL_WEBHOOK" in error["error"]
    assert sink.url not in str(logs.records())


def test_missing_environment_fails_the_first_invocation_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the module imported (import needs no environment) but no function variables set
    for name in ("MONITOR_BUCKET", "SLACK_WEBHOOK_SECRET", "IDEMPOTENCY_TABLE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    app.default_monitor.cache_clear()
    # When Lambda invokes it / Then the error names what is missing
    with pytest.raises(SettingsError) as raised:
        app.lambda_handler(load_event("glue_job_failed.json"), FakeLambdaContext())
    assert all(
        name in str(raised.value)
        for name in ("MONITOR_BUCKET", "SLACK_WEBHOOK_SECRET", "IDEMPOTENCY_TABLE")
    )
    get_settings.cache_clear()
