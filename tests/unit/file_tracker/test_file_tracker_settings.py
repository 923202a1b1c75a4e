import re
from collections.abc import Iterator
from typing import Any

import pytest
from settings_support import clean_settings, template_variables, variables_read

from datalake_shared.settings import SettingsError, load_settings
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN, FileTrackerSettings, get_settings

ENV_VARS = ("FILE_TRACKER_TABLE", "STAGING_PREFIX", "STAGING_KEY_PATTERN", "EVENT_BUS_NAME")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV_VARS, get_settings):
        yield


def test_defaults_apply_when_only_the_table_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only the required variable
    monkeypatch.setenv("FILE_TRACKER_TABLE", "tracker")
    # When settings load
    settings = load_settings(FileTrackerSettings)
    # Then the optional ones take their defaults
    assert settings == FileTrackerSettings(
        file_tracker_table="tracker",
        staging_prefix="",
        staging_key_pattern=DEFAULT_STAGING_KEY_PATTERN,
        event_bus_name="default",
    )


@pytest.mark.parametrize("value", [None, ""])
def test_missing_or_empty_table_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    # Given no (or an empty) FILE_TRACKER_TABLE
    if value is not None:
        monkeypatch.setenv("FILE_TRACKER_TABLE", value)
    # When settings load / Then the error names the variable
    with pytest.raises(SettingsError, match="FILE_TRACKER_TABLE"):
        get_settings()


def test_pattern_without_schema_group_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a pattern that names only the table
    monkeypatch.setenv("FILE_TRACKER_TABLE", "tracker")
    monkeypatch.setenv("STAGING_KEY_PATTERN", r"^[^/]+/(?P<table>[^/]+)/")
    # When settings load / Then the error names the variable and the missing group
    with pytest.raises(SettingsError, match=r"STAGING_KEY_PATTERN: .*missing \['schema'\]"):
        get_settings()


def test_pattern_that_does_not_compile_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a broken regular expression
    monkeypatch.setenv("FILE_TRACKER_TABLE", "tracker")
    monkeypatch.setenv("STAGING_KEY_PATTERN", r"^(?P<schema>[^/]+/(?P<table>")
    # When settings load / Then the error names the variable
    with pytest.raises(
        SettingsError, match=r"STAGING_KEY_PATTERN: .*not a valid regular expression"
    ):
        get_settings()


def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings loaded once
    monkeypatch.setenv("FILE_TRACKER_TABLE", "tracker")
    first = get_settings()
    # When the environment changes afterwards
    monkeypatch.setenv("FILE_TRACKER_TABLE", "other")
    # Then the cached settings are returned
    assert get_settings() is first


def test_default_pattern_is_the_template_default(sam_template: dict[str, Any]) -> None:
    # Given the template's StagingKeyPattern parameter / Then the code's default is the same
    assert sam_template["Parameters"]["StagingKeyPattern"]["Default"] == DEFAULT_STAGING_KEY_PATTERN


def test_settings_read_the_variables_the_template_sets(sam_template: dict[str, Any]) -> None:
    # Given the function's environment: its own variables plus the global ones
    provided = template_variables(sam_template, "FileTrackerFunction")
    # When compared with what the settings read
    read = variables_read(FileTrackerSettings)
    # Then every variable the settings read is set by the template
    assert read <= provided
    assert read == set(ENV_VARS)


def test_template_pattern_description_matches_the_required_groups(
    sam_template: dict[str, Any],
) -> None:
    # Given the default pattern / Then it defines the groups the code requires
    assert {"schema", "table", "file_name"} <= set(
        re.compile(DEFAULT_STAGING_KEY_PATTERN).groupindex
    )
    assert '"schema" and "table"' in sam_template["Parameters"]["StagingKeyPattern"]["Description"]
