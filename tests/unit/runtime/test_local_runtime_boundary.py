"""local_runtime is a generic library: it imports nothing of this project (the Glue job's
cdc_merge, a function package, the project's wiring in dev/), reaches moto's internals through
its adapter (local_runtime/moto_adapter) only, and keeps every module under 500 lines."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "local_runtime"
ADAPTER = PACKAGE / "moto_adapter"
MAX_LINES = 500
MODULES = sorted(PACKAGE.rglob("*.py"))
FUNCTION_PACKAGES = frozenset(p.name for p in (ROOT / "functions").iterdir() if p.is_dir())
PROJECT_PACKAGES = FUNCTION_PACKAGES | {"cdc_merge", "dev"}


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module the file imports, nested and lazy imports included."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # `from moto import mock_aws` reaches into moto too
                yield node.lineno, f"{node.module}.{alias.name}"


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_walk_sees_the_package_and_the_adapter() -> None:
    # Given the modules the boundary tests read
    # Then they are local_runtime's, and the adapter does import moto (else the test proves nothing)
    assert PACKAGE / "runtime.py" in MODULES
    assert FUNCTION_PACKAGES
    assert any(
        module.split(".")[0] == "moto"
        for path in ADAPTER.glob("*.py")
        for _, module in imported_modules(path)
    )


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_nothing_of_the_project_is_imported(path: Path) -> None:
    # Given a module of local_runtime
    # When its imports are read
    project = [
        f"line {line}: {module}"
        for line, module in imported_modules(path)
        if module.split(".")[0] in PROJECT_PACKAGES
    ]
    # Then none names the Glue job, a function or the project's wiring: those are given to it
    assert project == []


@pytest.mark.parametrize("path", [p for p in MODULES if ADAPTER not in p.parents], ids=name)
def test_moto_is_imported_by_the_adapter_only(path: Path) -> None:
    # Given a module of local_runtime outside local_runtime/moto_adapter
    # When its imports are read
    moto = [
        f"line {line}: {module}"
        for line, module in imported_modules(path)
        if module.split(".")[0] == "moto"
    ]
    # Then moto is reached through the adapter, never directly
    assert moto == []


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_each_module_stays_under_the_size_limit(path: Path) -> None:
    # Given a module of local_runtime
    # Then it holds one job, in at most MAX_LINES lines
    assert len(path.read_text().splitlines()) <= MAX_LINES
