"""Every function folder shares one sys.path in tests (conftest.py), as the layer does in Lambda:
a module name used by two functions would make one silently import the other's code."""

import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_DIRS = sorted(path for path in (ROOT / "functions").iterdir() if path.is_dir())
LAYER_PACKAGES = {path.name for path in (ROOT / "layers" / "shared").iterdir() if path.is_dir()}


def function_modules() -> dict[str, list[str]]:
    """Module name -> functions defining it (the Lambda entry point app.py excluded)."""
    owners: dict[str, list[str]] = defaultdict(list)
    for function_dir in FUNCTION_DIRS:
        for path in function_dir.glob("*.py"):
            if path.name != "app.py":
                owners[path.stem].append(function_dir.name)
    return owners


def test_module_names_are_unique_across_functions() -> None:
    # Given every function's modules / Then no name belongs to two functions
    shared = {name: owners for name, owners in function_modules().items() if len(owners) > 1}
    assert shared == {}


@pytest.mark.parametrize("function_dir", FUNCTION_DIRS, ids=lambda path: path.name)
def test_module_names_do_not_shadow_stdlib_or_layer_packages(function_dir: Path) -> None:
    # Given one function's modules / Then none hides a standard-library or shared-layer module
    names = {path.stem for path in function_dir.glob("*.py")}
    assert names & (set(sys.stdlib_module_names) | LAYER_PACKAGES) == set()


def _requirements(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("-")}


@pytest.mark.parametrize("function_dir", FUNCTION_DIRS, ids=lambda path: path.name)
def test_function_requirements_are_installed_in_the_dev_venv(function_dir: Path) -> None:
    # Given what `sam build` installs for the function / Then tests run with the same pins
    dev = _requirements(ROOT / "requirements-dev.txt") | _requirements(
        ROOT / "layers" / "shared" / "requirements.txt"
    )
    assert _requirements(function_dir / "requirements.txt") - dev == set()
