"""What the functions' settings tests share: a clean environment, and the template's variables."""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import pytest
from pydantic import BaseModel


class Cached(Protocol):
    def cache_clear(self) -> None: ...


@contextmanager
def clean_settings(
    monkeypatch: pytest.MonkeyPatch, variables: Iterable[str], *cached: Cached
) -> Iterator[None]:
    """The variables unset, and the cached settings (and what is built from them) cleared before
    and after: later tests must not see this test's settings."""
    for name in variables:
        monkeypatch.delenv(name, raising=False)
    for cache in cached:
        cache.cache_clear()
    yield
    for cache in cached:
        cache.cache_clear()


def set_variables(
    monkeypatch: pytest.MonkeyPatch, variables: Mapping[str, str], *, leave_out: str = ""
) -> None:
    """Sets the variables (all but ``leave_out``, when named)."""
    for name, value in variables.items():
        if name != leave_out:
            monkeypatch.setenv(name, value)


def variables_read(settings: type[BaseModel], *, required_only: bool = False) -> set[str]:
    """The environment variables a settings model reads (those without a default, if asked)."""
    return {
        field.alias or name
        for name, field in settings.model_fields.items()
        if field.is_required() or not required_only
    }


def template_variables(template: dict[str, Any], function: str) -> set[str]:
    """The variables template.yaml sets for a function: its own and the global ones."""
    properties = template["Resources"][function]["Properties"]
    return set(properties.get("Environment", {}).get("Variables", {})) | set(
        template["Globals"]["Function"]["Environment"]["Variables"]
    )
