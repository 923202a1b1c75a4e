from collections.abc import Iterator
from typing import Any

import pytest
from settings_support import clean_settings, set_variables, template_variables, variables_read

from datalake_shared.settings import SettingsError, load_settings
from iceberg_cdc.changes import TtlPolicy
from iceberg_cdc.service import UnknownAttributePolicy
from iceberg_cdc.settings import IcebergCdcSettings, get_settings

ENV_VARS = (
    "ATHENA_WORKGROUP",
    "TARGET_DATABASE",
    "TARGET_TABLE",
    "KEY_COLUMNS",
    "TTL_DELETES",
    "UNKNOWN_ATTRIBUTES",
    "ATHENA_MAX_QUERY_BYTES",
    "SCHEMA_CACHE_SECONDS",
    "ATHENA_OUTPUT_LOCATION",
    "ATHENA_MAX_ATTEMPTS",
    "MAX_STATEMENTS_PER_BATCH",
    "EVENT_BUS_NAME",
    "CDC_TABLE_CONFIG_TABLE",
    "STACK_SOURCE_STREAM_ARN",
    "CDC_CONFIG_CACHE_SECONDS",
    "LAKE_BUCKET",
)
REQUIRED = {
    "ATHENA_WORKGROUP": "datalake-events-dev-cdc",
    "TARGET_DATABASE": "datalake_events_dev_cdc",
    "TARGET_TABLE": "orders",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV_VARS, get_settings):
        yield


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch) -> None:
    set_variables(monkeypatch, REQUIRED)


@pytest.mark.usefixtures("required")
def test_defaults_apply_when_only_the_required_variables_are_set() -> None:
    # Given only the required variables / When settings load
    settings = load_settings(IcebergCdcSettings)
    # Then the optional ones take their documented defaults
    assert settings.key_columns == ()
    assert settings.ttl_deletes is TtlPolicy.APPLY
    assert settings.unknown_attributes is UnknownAttributePolicy.IGNORE
    assert settings.athena_max_query_bytes == 262_144
    assert settings.schema_cache_seconds == 300
    assert settings.athena_output_location == ""
    assert settings.athena_max_attempts == 5
    assert settings.max_statements_per_batch == 32
    assert settings.event_bus_name == "default"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_each_required_variable_is_named_when_missing(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    # Given every required variable but one
    set_variables(monkeypatch, REQUIRED, leave_out=missing)
    # When settings load / Then the error names the missing one
    with pytest.raises(SettingsError, match=missing):
        get_settings()


@pytest.mark.usefixtures("required")
def test_key_columns_are_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given KEY_COLUMNS with spaces / When loaded / Then the names, in order
    monkeypatch.setenv("KEY_COLUMNS", " order_id , line_no ")
    settings = get_settings()
    assert settings.key_columns == ("order_id", "line_no")
    assert settings.apply_options().key_columns == ("order_id", "line_no")


@pytest.mark.usefixtures("required")
def test_policies_are_read_case_insensitively(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given policies in upper case / When loaded / Then understood
    monkeypatch.setenv("TTL_DELETES", "IGNORE")
    monkeypatch.setenv("UNKNOWN_ATTRIBUTES", "Add")
    options = get_settings().apply_options()
    assert (options.ttl_policy, options.unknown_attributes) == (
        TtlPolicy.IGNORE,
        UnknownAttributePolicy.ADD,
    )


@pytest.mark.usefixtures("required")
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TTL_DELETES", "sometimes"),
        ("UNKNOWN_ATTRIBUTES", "drop"),
        ("ATHENA_MAX_QUERY_BYTES", "262145"),
        ("ATHENA_MAX_QUERY_BYTES", "100"),
        ("SCHEMA_CACHE_SECONDS", "-1"),
        ("ATHENA_OUTPUT_LOCATION", "https://bucket/prefix"),
        ("ATHENA_MAX_ATTEMPTS", "0"),
        ("MAX_STATEMENTS_PER_BATCH", "0"),
        ("KEY_COLUMNS", "order_id,order_id"),
        ("EVENT_BUS_NAME", ""),
    ],
)
def test_invalid_values_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    # Given one invalid variable / When settings load / Then the error names it
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        get_settings()


@pytest.mark.usefixtures("required")
def test_settings_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given settings loaded once / When the environment changes / Then the cached ones stay
    first = get_settings()
    monkeypatch.setenv("TARGET_TABLE", "other")
    assert get_settings() is first


def test_settings_read_exactly_the_documented_variables() -> None:
    # Given the settings model / Then it reads exactly the documented variables
    assert variables_read(IcebergCdcSettings) == set(ENV_VARS)


def test_template_sets_the_required_variables(sam_template: dict[str, Any]) -> None:
    # Given the function in template.yaml
    provided = template_variables(sam_template, "IcebergCdcFunction")
    # Then every required variable is set
    assert set(REQUIRED) <= provided
