"""The deployed artefact: `sam deploy` uploads only the Glue job's ScriptLocation file, so the
bundle that `make build` writes there must carry every module of the job and of the contracts
it shares with the Lambda functions."""

import subprocess
import sys
from pathlib import Path

from bundle_glue_job import PACKAGES, bundle

ROOT = Path(__file__).resolve().parents[3]


def test_bundle_alone_imports_every_module_of_the_job(tmp_path: Path) -> None:
    # Given the bundle written somewhere the repository's glue/ folder is not on the path
    script = bundle(tmp_path / "cdc_merge_job.py")
    modules = sorted(
        f"{package.name}.{path.stem}" for package in PACKAGES for path in package.glob("*.py")
    )

    # When it is loaded in a fresh, isolated interpreter (not as __main__: no Spark here)
    code = (
        "import importlib, runpy, sys\n"
        f"runpy.run_path({str(script)!r}, run_name='bundle_check')\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sys.modules['cdc_merge.main'].__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    # Then every module came from the zip inside the bundle
    assert result.returncode == 0, result.stderr
    assert "cdc_merge.zip" in result.stdout
    assert "datalake_contracts.table_config" in modules


def test_bundle_is_reproducible(tmp_path: Path) -> None:
    first = bundle(tmp_path / "a.py").read_bytes()
    second = bundle(tmp_path / "b.py").read_bytes()

    assert first == second
