"""The deployed artefact: the package, and the contracts it shares with the Lambda functions
(layers/shared/datalake_contracts), run on Glue 5's Python 3.11 with Glue's libraries only, and
the zip the bundle carries holds every module the entry point needs."""

import ast
import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "glue" / "cdc_merge"
CONTRACTS = ROOT / "layers" / "shared" / "datalake_contracts"
MODULES = sorted([*PACKAGE.glob("*.py"), *CONTRACTS.glob("*.py")])
# What a Glue 5 job has besides the standard library (awsglue only on Glue: imported lazily),
# and the packages the bundle carries.
GLUE_LIBRARIES = {"boto3", "botocore", "pyspark", "awsglue"}
BUNDLED = {"cdc_merge", "datalake_contracts"}
TYPE_CHECKING_ONLY = {"mypy_boto3_dynamodb", "mypy_boto3_s3"}


def _build_zip(output: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "bundle_glue_job", ROOT / "scripts" / "bundle_glue_job.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(module.package_zip())
    return output


def _imported_top_level(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _module_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("module", MODULES, ids=_module_id)
def test_modules_are_python_3_11_syntax(module: Path) -> None:
    # Given a module of the job / Then Python 3.11's grammar accepts it
    ast.parse(module.read_text(), filename=str(module), feature_version=(3, 11))


@pytest.mark.parametrize("module", MODULES, ids=_module_id)
def test_modules_import_only_what_glue_provides(module: Path) -> None:
    imported = _imported_top_level(ast.parse(module.read_text()))
    allowed = set(sys.stdlib_module_names) | GLUE_LIBRARIES | BUNDLED | TYPE_CHECKING_ONLY
    assert imported - allowed == set()


@pytest.mark.parametrize("module", sorted(CONTRACTS.glob("*.py")), ids=_module_id)
def test_the_contracts_need_only_the_standard_library(module: Path) -> None:
    # Given a module of the contracts (the Lambda layer and the Glue job both import them)
    imported = _imported_top_level(ast.parse(module.read_text()))
    # Then it imports nothing but the standard library and the contracts themselves
    assert imported - set(sys.stdlib_module_names) - {"datalake_contracts"} == set()


def test_the_zip_holds_exactly_the_package_modules(tmp_path: Path) -> None:
    archive = _build_zip(tmp_path / "cdc_merge.zip")
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
    assert names == sorted(f"{module.parent.name}/{module.name}" for module in MODULES)


def test_the_zip_is_reproducible(tmp_path: Path) -> None:
    first = _build_zip(tmp_path / "a.zip").read_bytes()
    assert _build_zip(tmp_path / "b.zip").read_bytes() == first


def test_the_entry_point_runs_from_a_lone_copy_with_only_the_zip(tmp_path: Path) -> None:
    # Given main.py copied alone (as Glue downloads the ScriptLocation) and the zip
    archive = _build_zip(tmp_path / "deps" / "cdc_merge.zip")
    script = tmp_path / "script" / "main.py"
    script.parent.mkdir()
    shutil.copy(PACKAGE / "main.py", script)
    # When a fresh interpreter outside the repository puts the zip on sys.path and loads main.py
    code = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(archive)!r})\n"
        f"namespace = runpy.run_path({str(script)!r}, run_name='glue_entry')\n"
        "import cdc_merge.job, cdc_merge.engine, cdc_merge.leases, datalake_contracts\n"
        "assert cdc_merge.job.__file__.startswith(sys.path[0]), cdc_merge.job.__file__\n"
        "assert datalake_contracts.__file__.startswith(sys.path[0])\n"
        "assert callable(namespace['main'])\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    # Then every import resolves from the zip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


PYTHON_311 = shutil.which("python3.11")


@pytest.mark.skipif(PYTHON_311 is None, reason="no python3.11 on PATH")
def test_the_package_imports_and_builds_sql_on_python_3_11(tmp_path: Path) -> None:
    # Given Glue's Python (3.11) with the zip and a stand-in for boto3 (Glue ships the real one)
    archive = _build_zip(tmp_path / "cdc_merge.zip")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "boto3.py").write_text("def client(*args, **kwargs):\n    raise RuntimeError\n")
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(archive)!r}, {str(stubs)!r}]\n"
        "import cdc_merge.main\n"
        "from cdc_merge.merge_sql import merge_sql\n"
        "from cdc_merge.table_spec import TableSpec\n"
        "spec = TableSpec.from_dict({'source_table': 'a.b', 'target_database': 'a',"
        " 'target_table': 'b', 'primary_key': ['id'], 'sequence_column': 'ts',"
        " 'columns': [{'name': 'id', 'type': 'int'}]})\n"
        "print(merge_sql(spec, 'glue_catalog', 'latest')[:10])\n"
    )
    result = subprocess.run(
        [str(PYTHON_311), "-I", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "MERGE INTO"
