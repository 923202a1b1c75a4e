"""Each function is one package, functions/<fn>/<fn>/, that Lambda imports from its CodeUri
(functions/<fn>/) as ``<fn>.handler``. Tests import every function at once through one pytest
pythonpath, which is safe only while package names differ and no function imports another."""

import ast
import tomllib
from pathlib import Path
from typing import Any

import pytest
from template_support import ROOT, resources
from test_build_dependencies import FUNCTION_DIRS

FUNCTIONS = [path.name for path in FUNCTION_DIRS]


def _pytest_pythonpath() -> list[str]:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    paths: list[str] = options["ini_options"]["pythonpath"]
    return paths


def _imported_top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_pytest_pythonpath_holds_every_function_folder() -> None:
    # Given pyproject.toml's pytest pythonpath / Then it lists each function's CodeUri, no more
    listed = {path for path in _pytest_pythonpath() if path.startswith("functions/")}
    assert listed == {f"functions/{name}" for name in FUNCTIONS}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_folder_holds_one_package_named_after_it(function: str) -> None:
    # Given functions/<fn>/ / Then its Python code is the package <fn>/, with a handler module
    folder = ROOT / "functions" / function
    assert sorted(path.name for path in folder.glob("*.py")) == []
    assert (folder / function / "__init__.py").is_file()
    assert (folder / function / "handler.py").is_file()


def test_every_function_in_the_template_runs_its_packages_handler(
    sam_template: dict[str, Any],
) -> None:
    # Given the template's functions / Then each is CodeUri functions/<fn>/ and Handler
    # <fn>.handler.lambda_handler, and every function folder is deployed
    deployed = {
        (function["Properties"]["CodeUri"], function["Properties"]["Handler"])
        for function in resources(sam_template, "AWS::Serverless::Function").values()
    }
    assert deployed == {
        (f"functions/{name}/", f"{name}.handler.lambda_handler") for name in FUNCTIONS
    }


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_another(function: str) -> None:
    # Given one function's modules / Then none imports another function's package (in Lambda
    # it would not be there)
    others = set(FUNCTIONS) - {function}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_level_names(path) & others)
        for path in (ROOT / "functions" / function).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


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
