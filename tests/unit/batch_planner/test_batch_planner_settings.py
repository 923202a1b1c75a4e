import json
from collections.abc import Iterator
from typing import Any

import pytest
from settings_support import clean_settings, set_variables, template_variables, variables_read

from batch_planner.settings import BatchPlannerSettings, get_settings
from datalake_shared.settings import SettingsError

ENV = {
    "BATCH_CONFIG_TABLE": "batch-config",
    "TABLE_CONFIG_TABLE": "table-config",
    "FILE_TRACKER_TABLE": "file-tracker",
    "GLUE_JOB_NAME": "cdc-merge",
    "TABLE_MAINTENANCE_TABLE": "table-maintenance",
    "LAKE_DATABASE": "lake",
    "CDC_TABLE_CONFIG_TABLE": "cdc-table-config",
}
FUNCTION = "BatchPlannerFunction"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV, get_settings):
        yield


def test_settings_read_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the required variables
    set_variables(monkeypatch, ENV)
    # When settings load / Then each field holds its variable
    assert get_settings() == BatchPlannerSettings(
        batch_config_table="batch-config",
        table_config_table="table-config",
        file_tracker_table="file-tracker",
        glue_job_name="cdc-merge",
        table_maintenance_table="table-maintenance",
        lake_database="lake",
        cdc_table_config_table="cdc-table-config",
    )


@pytest.mark.parametrize("missing", sorted(ENV))
def test_a_missing_variable_fails_naming_it(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    # Given every variable but one
    set_variables(monkeypatch, ENV, leave_out=missing)
    # When settings load / Then the error names the missing one
    with pytest.raises(SettingsError, match=missing):
        get_settings()


def test_an_empty_variable_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an empty job name
    set_variables(monkeypatch, ENV)
    monkeypatch.setenv("GLUE_JOB_NAME", "")
    # When settings load / Then the error names it
    with pytest.raises(SettingsError, match="GLUE_JOB_NAME"):
        get_settings()


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings loaded once
    set_variables(monkeypatch, ENV)
    first = get_settings()
    # When the environment changes afterwards / Then the cached settings are returned
    monkeypatch.setenv("GLUE_JOB_NAME", "other")
    assert get_settings() is first


def test_template_sets_the_variables_the_settings_read(sam_template: dict[str, Any]) -> None:
    # Given the function's environment in template.yaml
    provided = template_variables(sam_template, FUNCTION)
    # When compared with what the settings read
    read = variables_read(BatchPlannerSettings)
    # Then every variable the settings read is set
    assert read == set(ENV)
    assert read <= provided


def _statements(sam_template: dict[str, Any]) -> list[dict[str, Any]]:
    # A renamed or removed function fails here (KeyError), never skips.
    function = sam_template["Resources"][FUNCTION]
    statements: list[dict[str, Any]] = []
    for policy in function["Properties"].get("Policies", []):
        statements.extend(policy.get("Statement", []))
    return statements


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_template_lets_the_planner_query_the_pending_index_only(
    sam_template: dict[str, Any],
) -> None:
    # Given the function's policy statements
    statements = _statements(sam_template)
    # When those on the file tracker table are picked out
    on_tracker = [s for s in statements if "FileTrackerTable" in json.dumps(s["Resource"])]
    # Then the planner may Query the pending-files index and do nothing else there (no Scan)
    assert on_tracker
    assert all(_actions(s) == {"dynamodb:Query"} for s in on_tracker)
    assert all("/index/pending-files-index" in json.dumps(s["Resource"]) for s in on_tracker)


def test_template_lets_the_planner_read_both_config_tables(sam_template: dict[str, Any]) -> None:
    # Given the function's policy statements / Then GetItem (batch) and Query (tables) are granted
    statements = _statements(sam_template)
    granted: dict[str, set[str]] = {"BatchConfigTable": set(), "TableConfigTable": set()}
    for statement in statements:
        resources = json.dumps(statement["Resource"])
        for table in granted:
            if table in resources:
                granted[table] |= _actions(statement)
    assert "dynamodb:GetItem" in granted["BatchConfigTable"]
    assert "dynamodb:Query" in granted["TableConfigTable"]
