from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from object_rewriter_fakes import app
from settings_support import clean_settings, template_variables, variables_read

from datalake_shared.settings import SettingsError, load_settings
from object_rewriter.ledger import DynamoTaskLedger
from object_rewriter.settings import ObjectRewriterSettings, get_settings
from object_rewriter.task_queue import SqsTaskQueue

ENV_VARS = ("OBJECT_TASK_TABLE", "TASK_QUEUE_URL", "DONE_RETENTION_DAYS", "MAX_OBJECT_BYTES")
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/datalake-events-ObjectTaskQueue-ABC"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(
        monkeypatch,
        ENV_VARS,
        get_settings,
        app.default_ledger,
        app.default_rewriter,
        app.default_requeuer,
    ):
        yield


def test_defaults_apply_when_only_the_table_and_queue_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OBJECT_TASK_TABLE", "object-tasks")
    monkeypatch.setenv("TASK_QUEUE_URL", QUEUE_URL)
    settings = load_settings(ObjectRewriterSettings)
    assert (settings.done_retention, settings.max_object_bytes) == (timedelta(days=30), 2 * 1024**3)


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"TASK_QUEUE_URL": QUEUE_URL}, "OBJECT_TASK_TABLE"),
        ({"OBJECT_TASK_TABLE": "t"}, "TASK_QUEUE_URL"),
        ({"OBJECT_TASK_TABLE": "t", "TASK_QUEUE_URL": ""}, "TASK_QUEUE_URL"),
        (
            {"OBJECT_TASK_TABLE": "t", "TASK_QUEUE_URL": QUEUE_URL, "DONE_RETENTION_DAYS": "0"},
            "DONE_RETENTION_DAYS",
        ),
        (
            {"OBJECT_TASK_TABLE": "t", "TASK_QUEUE_URL": QUEUE_URL, "MAX_OBJECT_BYTES": "6e9"},
            "MAX_OBJECT_BYTES",
        ),
    ],
)
def test_a_missing_or_bad_variable_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=named):
        load_settings(ObjectRewriterSettings)


def test_the_template_sets_every_required_variable(sam_template: dict[str, Any]) -> None:
    provided = template_variables(sam_template, "ObjectRewriterFunction")
    assert variables_read(ObjectRewriterSettings, required_only=True) <= provided


def test_the_default_rewriter_is_built_from_the_settings_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the environment / When the handler's rewriter is built (no AWS call is made)
    monkeypatch.setenv("OBJECT_TASK_TABLE", "object-tasks")
    monkeypatch.setenv("TASK_QUEUE_URL", QUEUE_URL)
    monkeypatch.setenv("DONE_RETENTION_DAYS", "7")
    rewriter = app.default_rewriter()
    # Then it uses the table and the retention configured
    assert isinstance(rewriter.ledger, DynamoTaskLedger)
    assert (rewriter.ledger.table_name, rewriter.done_retention) == ("object-tasks", timedelta(7))
    assert app.default_rewriter() is rewriter


def test_the_default_requeuer_uses_the_table_the_queue_and_the_retention(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the environment / When the stream path's requeuer is built (no AWS call is made)
    monkeypatch.setenv("OBJECT_TASK_TABLE", "object-tasks")
    monkeypatch.setenv("TASK_QUEUE_URL", QUEUE_URL)
    monkeypatch.setenv("DONE_RETENTION_DAYS", "7")
    requeuer = app.default_requeuer()
    # Then it writes to the table, sends to the queue, and keeps failed items 7 days
    assert isinstance(requeuer.ledger, DynamoTaskLedger)
    assert isinstance(requeuer.queue, SqsTaskQueue)
    assert (requeuer.ledger.table_name, requeuer.queue.queue_url) == ("object-tasks", QUEUE_URL)
    assert (requeuer.done_retention, requeuer.fallback_grace) == (timedelta(7), timedelta(hours=24))
    assert app.default_requeuer() is requeuer
