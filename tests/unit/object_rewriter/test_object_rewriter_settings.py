from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from object_rewriter_fakes import app
from settings_support import clean_settings, template_variables, variables_read

from datalake_shared.settings import SettingsError, load_settings
from object_rewriter.ledger import DynamoTaskLedger
from object_rewriter.settings import ObjectRewriterSettings, get_settings

ENV_VARS = ("OBJECT_TASK_TABLE", "DONE_RETENTION_DAYS", "MAX_OBJECT_BYTES")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV_VARS, get_settings, app.default_rewriter):
        yield


def test_defaults_apply_when_only_the_table_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBJECT_TASK_TABLE", "object-tasks")
    settings = load_settings(ObjectRewriterSettings)
    assert (settings.done_retention, settings.max_object_bytes) == (timedelta(days=30), 2 * 1024**3)


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "OBJECT_TASK_TABLE"),
        ({"OBJECT_TASK_TABLE": "t", "DONE_RETENTION_DAYS": "0"}, "DONE_RETENTION_DAYS"),
        ({"OBJECT_TASK_TABLE": "t", "MAX_OBJECT_BYTES": "6e9"}, "MAX_OBJECT_BYTES"),
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
    monkeypatch.setenv("DONE_RETENTION_DAYS", "7")
    rewriter = app.default_rewriter()
    # Then it uses the table and the retention configured
    assert isinstance(rewriter.ledger, DynamoTaskLedger)
    assert (rewriter.ledger.table_name, rewriter.done_retention) == ("object-tasks", timedelta(7))
    assert app.default_rewriter() is rewriter
