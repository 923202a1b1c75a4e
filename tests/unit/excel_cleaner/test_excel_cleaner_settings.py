"""Settings from the environment: required names, limits, prefixes, cleaning specs."""

import json

import pytest
from pydantic import ValidationError
from settings_support import set_variables

from datalake_shared.settings import SettingsError, load_settings
from excel_cleaner.settings import ExcelCleanerSettings
from excel_cleaner.specs import ColumnType, spec_for

REQUIRED = {"CLEAN_BUCKET": "clean-bucket", "RESULT_TOPIC_ARN": "arn:aws:sns:us-east-1:1:r"}


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> ExcelCleanerSettings:
    set_variables(monkeypatch, {**REQUIRED, **env})
    return load_settings(ExcelCleanerSettings)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch)
    config = settings.cleaner_config()
    assert (config.clean_prefix, config.quarantine_prefix, config.specs) == (
        "clean/",
        "quarantine/",
        (),
    )
    assert config.limits.max_object_bytes == 50 * 1024 * 1024
    assert (config.limits.max_rows, config.limits.max_decompression_ratio) == (1_000_000, 100.0)


def test_missing_variables_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEAN_BUCKET", raising=False)
    monkeypatch.delenv("RESULT_TOPIC_ARN", raising=False)
    with pytest.raises(SettingsError) as raised:
        load_settings(ExcelCleanerSettings)
    assert "CLEAN_BUCKET" in str(raised.value)
    assert "RESULT_TOPIC_ARN" in str(raised.value)


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(
        monkeypatch,
        MAX_OBJECT_BYTES="1000",
        MAX_UNCOMPRESSED_BYTES="2000",
        MAX_DECOMPRESSION_RATIO="20",
        MAX_ROWS="10",
    )
    limits = settings.limits()
    assert (limits.max_object_bytes, limits.max_uncompressed_bytes) == (1000, 2000)
    assert (limits.max_decompression_ratio, limits.max_rows) == (20.0, 10)


@pytest.mark.parametrize(("clean", "quarantine"), [("", "quarantine/"), ("data/", "data/bad/")])
def test_overlapping_prefixes_are_refused(
    monkeypatch: pytest.MonkeyPatch, clean: str, quarantine: str
) -> None:
    with pytest.raises(SettingsError, match="overlap"):
        settings_from(monkeypatch, CLEAN_PREFIX=clean, QUARANTINE_PREFIX=quarantine)


def test_cleaning_specs_are_read_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = [
        {"prefix": "finance/", "sheet": "Budget", "header_row": 4},
        {"prefix": "finance/fx/", "types": {"rate": "number"}, "renames": {"Rate %": "rate"}},
    ]
    settings = settings_from(monkeypatch, CLEANING_SPECS=json.dumps(specs))
    found = spec_for("finance/fx/2026.xlsx", settings.cleaning_specs)
    assert found is not None
    assert (found.prefix, found.types) == ("finance/fx/", {"rate": ColumnType.NUMBER})
    assert spec_for("hr/x.xlsx", settings.cleaning_specs) is None


@pytest.mark.parametrize(
    ("specs", "problem"),
    [
        ('[{"prefix": "a/", "header_row": -1}]', "greater than or equal to 0"),
        ('[{"prefix": "a/", "types": {"x": "money"}}]', "'string', 'integer'"),
        ('[{"prefix": "a/", "renames": {"A": "Not Snake"}}]', "snake_case"),
        ('[{"prefix": "a/", "renames": {"A": "x", "B": "x"}}]', "same name"),
        ('[{"prefix": "a/"}, {"prefix": "a/"}]', "prefixes listed twice"),
        ('[{"prefix": "a/", "shet": "typo"}]', "Extra inputs are not permitted"),
        ("not json", "Invalid JSON"),
    ],
)
def test_invalid_cleaning_specs_fail_fast_with_the_problem(
    monkeypatch: pytest.MonkeyPatch, specs: str, problem: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from(monkeypatch, CLEANING_SPECS=specs)
    assert "cleaning_specs" in str(raised.value) or "CLEANING_SPECS" in str(raised.value)
    assert problem in str(raised.value)
    assert isinstance(raised.value.__cause__, ValidationError)


def test_clean_keys_may_mirror_raw_keys_under_an_upload_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given CSVs written under the raw keys themselves ("incoming/..."), quarantine apart
    settings = settings_from(monkeypatch, CLEAN_PREFIX="", UPLOAD_PREFIX="incoming/")
    config = settings.cleaner_config()
    assert (config.clean_prefix, config.upload_prefix, config.quarantine_target) == (
        "",
        "incoming/",
        "clean-bucket",
    )


def test_quarantine_in_another_bucket_cannot_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_from(monkeypatch, CLEAN_PREFIX="", QUARANTINE_BUCKET="raw-bucket")
    assert settings.cleaner_config().quarantine_target == "raw-bucket"


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("QUARANTINE_PREFIX", {"QUARANTINE_PREFIX": "q" * 599 + "/"}),
        ("CLEAN_PREFIX", {"CLEAN_PREFIX": "c" * 300 + "/", "UPLOAD_PREFIX": "u" * 300 + "/"}),
    ],
)
def test_prefixes_too_long_for_the_keys_under_them_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, env: dict[str, str]
) -> None:
    # Given prefixes of over 512 bytes (the output prefix is CLEAN_PREFIX + UPLOAD_PREFIX)
    # When loaded / Then they are refused at start-up, naming the variable
    with pytest.raises(SettingsError, match=variable):
        settings_from(monkeypatch, **env)
