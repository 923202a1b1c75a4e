from collections.abc import Iterator

import pytest
from settings_support import clean_settings

from catalog_type_fixer.settings import get_settings
from datalake_shared.settings import SettingsError

ENV_VARS = ("TYPE_FIXER_DATABASES",)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with clean_settings(monkeypatch, ENV_VARS, get_settings):
        yield


def test_databases_are_read_as_a_lowercase_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two databases, spaced and in mixed case
    monkeypatch.setenv("TYPE_FIXER_DATABASES", " crawled_db, Sessions_DB ,")
    # When settings load / Then they are the set of lowercase names
    assert get_settings().databases == frozenset({"crawled_db", "sessions_db"})


@pytest.mark.parametrize("value", [None, "", " , "])
def test_missing_or_empty_databases_fail_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    # Given no database named
    if value is not None:
        monkeypatch.setenv("TYPE_FIXER_DATABASES", value)
    # When settings load / Then the error names the variable
    with pytest.raises(SettingsError, match="TYPE_FIXER_DATABASES"):
        get_settings()
