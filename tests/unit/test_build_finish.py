"""scripts/finish_build.py on a tiny fake `sam build` folder: bytecode Lambda will use, no SDK copy
the runtime provides, safe to run again (make build runs it after every `sam build --cached`)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from finish_build import MARKER, FinishError, finish, runtime_sdk

ROOT = Path(__file__).resolve().parents[2]

RUNTIME = {"boto3": "1.38.36", "botocore": "1.38.36", "python-dateutil": "2.9.0.post0", "six": "1"}


def _install(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """A distribution as a wheel installs it: its files and a dist-info whose RECORD lists them."""
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    record = [*files, f"{dist_info.name}/METADATA", f"{dist_info.name}/RECORD", "../../bin/tool,,"]
    (dist_info / "RECORD").write_text("".join(f"{line.split(',')[0]},,\n" for line in record))


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """What `sam build` leaves: a function with its code, a layer with pip-installed packages."""
    build = tmp_path / "build"
    function = build / "FileTrackerFunction"
    function.mkdir(parents=True)
    (function / "app.py").write_text("import helper\nANSWER = helper.VALUE\n")
    (function / "helper.py").write_text("VALUE = 'compiled'\n")
    layer = build / "SharedLayer" / "python"
    layer.mkdir(parents=True)
    _install(layer, "pydantic", "2.13.5", {"pydantic/__init__.py": "", "pydantic/main.py": ""})
    _install(
        layer,
        "botocore",
        "1.43.127",
        {"botocore/__init__.py": "", "botocore/data/s3/service-2.json": "{}"},
    )
    _install(
        layer,
        "python-dateutil",
        "2.9.0.post0",
        {"dateutil/__init__.py": "", "dateutil/tz/__init__.py": ""},
    )
    _install(layer, "six", "1.17.0", {"six.py": ""})
    _install(function, "boto3", "1.43.108", {"boto3/__init__.py": ""})
    (build / "template.yaml").write_text("Resources: {}\n")
    return build


def _tree(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*")}


def test_every_module_gets_unchecked_hash_bytecode_for_python_313(build: Path) -> None:
    # Given a build folder / When it is finished
    finish(build, RUNTIME)

    # Then each module has a .cpython-313.pyc whose header says "hash-based, never check the
    # source" (flags 0b01) and holds the source's hash, under this interpreter's magic number
    sources = list(build.rglob("*.py"))
    assert len(sources) == 4
    for source in sources:
        pyc = Path(importlib.util.cache_from_source(str(source)))
        assert pyc.name.endswith(".cpython-313.pyc")
        header = pyc.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER
        assert int.from_bytes(header[4:8], "little") == 0b01
        assert header[8:16] == importlib.util.source_hash(source.read_bytes())


def test_a_fresh_interpreter_runs_the_bytecode_without_checking_the_source(build: Path) -> None:
    # Given a finished function whose source then changes (as Lambda never compares them)
    finish(build, RUNTIME)
    function = build / "FileTrackerFunction"
    (function / "helper.py").write_text("VALUE = 'source'\n")

    # When an isolated interpreter that writes no bytecode (-B) imports the handler module
    code = f"import sys; sys.path.insert(0, {str(function)!r}); import app; print(app.ANSWER)"
    result = subprocess.run(
        [sys.executable, "-B", "-I", "-S", "-c", code], capture_output=True, text=True, check=False
    )

    # Then it ran the compiled bytecode, so nothing was compiled at import
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "compiled"


def test_the_runtime_sdk_packages_and_their_dist_info_are_removed(build: Path) -> None:
    # Given a layer holding botocore, dateutil and six, and a function holding boto3
    # When the build is finished
    reports = finish(build, RUNTIME)

    # Then their files, folders and dist-info are gone, and what the runtime lacks stays
    layer = build / "SharedLayer" / "python"
    assert {path.name for path in layer.iterdir()} == {"pydantic", "pydantic-2.13.5.dist-info"}
    assert {path.name for path in (build / "FileTrackerFunction").iterdir()} == {
        "app.py",
        "helper.py",
        "__pycache__",
    }
    removed = {report.name: report.removed for report in reports}
    assert removed == {
        "FileTrackerFunction": ("boto3",),
        "SharedLayer": ("botocore", "python-dateutil", "six"),
    }


def test_finishing_twice_changes_nothing_more(build: Path) -> None:
    # Given a finished build (as `sam build --cached` then make build leave it)
    finish(build, RUNTIME)
    first = _tree(build)

    # When it is finished again
    reports = finish(build, RUNTIME)

    # Then the same files are there, nothing else was removed, and the marker is rewritten
    assert _tree(build) == first
    assert all(report.removed == () for report in reports)
    assert (build / MARKER).is_file()


def test_what_sam_linked_from_its_cache_is_copied_and_the_cache_left_alone(
    tmp_path: Path,
) -> None:
    # Given an artifact folder SAM linked to its cache, and a layer package linked to its
    # dependency folder (what it does to save copies)
    cache = tmp_path / "cache" / "uuid"
    _install(cache, "six", "1.17.0", {"six.py": ""})
    (cache / "app.py").write_text("")
    deps = tmp_path / "deps" / "uuid"
    _install(deps, "botocore", "1.43.127", {"botocore/__init__.py": ""})
    (deps / "pydantic").mkdir()
    (deps / "pydantic" / "__init__.py").write_text("")
    build = tmp_path / "build"
    layer = build / "SharedLayer" / "python"
    layer.mkdir(parents=True)
    (build / "template.yaml").write_text("Resources: {}\n")
    (build / "SpiceTargetFunction").symlink_to(cache, target_is_directory=True)
    for entry in deps.iterdir():
        (layer / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())

    # When the build is finished
    finish(build, RUNTIME)

    # Then the artifacts are real, finished folders
    artifact = build / "SpiceTargetFunction"
    assert not artifact.is_symlink()
    assert not (artifact / "six.py").exists()
    assert (artifact / "__pycache__").is_dir()
    assert {path.name for path in layer.iterdir()} == {"pydantic"}
    assert not (layer / "pydantic").is_symlink()
    assert (layer / "pydantic" / "__pycache__").is_dir()
    # And SAM's cache and dependency folders still hold what it built, without bytecode
    assert (cache / "six.py").is_file()
    assert (deps / "botocore" / "__init__.py").is_file()
    assert (
        list(tmp_path.glob("cache/**/__pycache__")) + list(tmp_path.glob("deps/**/__pycache__"))
        == []
    )


def test_a_distribution_without_record_stops_the_build(build: Path) -> None:
    # Given a runtime package whose files cannot be told apart from others'
    (build / "SharedLayer" / "python" / "six-1.17.0.dist-info" / "RECORD").unlink()

    # When the build is finished / Then it refuses, naming the distribution, and leaves no marker
    with pytest.raises(FinishError, match=r"six-1\.17\.0\.dist-info: no RECORD"):
        finish(build, RUNTIME)
    assert not (build / MARKER).exists()


def test_the_pinned_runtime_sdk_is_read_by_canonical_name() -> None:
    # Given scripts/lambda_runtime_sdk.txt / Then names are canonical and versions exact pins
    pins = runtime_sdk()
    assert {"boto3", "botocore", "s3transfer", "python-dateutil"} <= set(pins)
    assert all(name == name.lower() and "_" not in name for name in pins)
    assert all(version[0].isdigit() for version in pins.values())
