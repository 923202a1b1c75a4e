"""The built artifacts as Lambda would load them, on this machine: what the cold-start bench runs.

- The build: ``.aws-sam/build`` finished by scripts/finish_build.py. Without its marker (never
  built, or a plain `sam build` since) or when a source is newer, ``make build`` runs first.
- The runtime's SDK: scripts/lambda_runtime_sdk.txt installed once, outside the repository, into
  ``~/.cache/datalake-events/lambda-runtime-sdk/<pins digest>/`` and compiled, as the runtime
  ships it with bytecode.
- Native extensions: the artifacts hold arm64 builds. On another machine, the bench uses a copy
  of the build whose extension modules are swapped for this machine's build of the same
  distribution version, taken from the dev venv (it pins the same versions); every Python file
  and its bytecode stay the artifact's.
"""

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.results import ROOT
from local_runtime.template import load_sam_template

BUILD_DIR = ROOT / ".aws-sam" / "build"
FINISHED_MARKER = BUILD_DIR / "finished.json"
RUNTIME_SDK_PINS = ROOT / "scripts" / "lambda_runtime_sdk.txt"
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "datalake-events"
_ARM64_SUFFIX = ".cpython-313-aarch64-linux-gnu.so"


@dataclass(frozen=True)
class BuiltFunction:
    """A function as the template declares it, and where its code sits in the build."""

    name: str  # its source folder: functions/<name>/
    logical_id: str
    handler_module: str
    layer_ids: tuple[str, ...]
    environment: Mapping[str, str]

    @property
    def source_dir(self) -> Path:
        return ROOT / "functions" / self.name


def _strings(variables: Mapping[str, Any]) -> dict[str, str]:
    """The variables a template sets to plain text (intrinsics resolve only in AWS)."""
    return {key: value for key, value in variables.items() if isinstance(value, str)}


def built_functions(template_path: Path = ROOT / "template.yaml") -> list[BuiltFunction]:
    template = load_sam_template(template_path)
    defaults = template.get("Globals", {}).get("Function", {})
    found = []
    for logical_id, resource in sorted(template["Resources"].items()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        layers = [*defaults.get("Layers", []), *props.get("Layers", [])]
        found.append(
            BuiltFunction(
                name=Path(props["CodeUri"]).name,
                logical_id=logical_id,
                handler_module=props["Handler"].rsplit(".", 1)[0],
                layer_ids=tuple(layer["Ref"] for layer in layers if "Ref" in layer),
                environment={
                    **_strings(defaults.get("Environment", {}).get("Variables", {})),
                    **_strings(props.get("Environment", {}).get("Variables", {})),
                },
            )
        )
    return found


def _sources_newer_than(moment: float) -> list[Path]:
    candidates = [
        ROOT / "template.yaml",
        *(ROOT / "functions").rglob("*"),
        *(ROOT / "layers" / "shared").rglob("*"),
    ]
    return [
        path
        for path in candidates
        if path.is_file() and "__pycache__" not in path.parts and path.stat().st_mtime > moment
    ]


def ensure_build() -> Path:
    """The finished build folder, built first when missing, unfinished or older than its sources."""
    if not FINISHED_MARKER.is_file():
        reason = ".aws-sam/build is missing or unfinished"
    elif changed := _sources_newer_than(FINISHED_MARKER.stat().st_mtime):
        reason = f"{changed[0].relative_to(ROOT)} changed since the last build"
    else:
        return BUILD_DIR
    print(f"cold start bench: {reason}: running make build")
    subprocess.run(["make", "build"], cwd=ROOT, check=True)  # noqa: S607
    return BUILD_DIR


def runtime_sdk_dir() -> Path:
    """The runtime-like SDK, installed and compiled once per set of pins."""
    pins = RUNTIME_SDK_PINS.read_bytes()
    target = CACHE_HOME / "lambda-runtime-sdk" / hashlib.sha256(pins).hexdigest()[:16]
    stamp = target / ".installed"
    if stamp.is_file():
        return target
    shutil.rmtree(target, ignore_errors=True)
    print(f"cold start bench: installing the runtime-like SDK into {target}")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    only = ["--no-deps", "--only-binary=:all:", "--no-compile", "--target", str(target)]
    subprocess.run([*pip, *only, "-r", str(RUNTIME_SDK_PINS)], check=True)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j0", str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stamp.touch()
    return target


def _owner(site: Path, relative: str) -> tuple[str, str]:
    """(name, version) of the distribution whose RECORD lists ``relative``."""
    for dist_info in site.glob("*.dist-info"):
        record = dist_info / "RECORD"
        if record.is_file() and any(
            line.split(",", 1)[0] == relative for line in record.read_text().splitlines()
        ):
            name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
            return name, version
    raise LookupError(f"no distribution in {site} owns {relative}")


def _host_extension(site: Path, extension: Path) -> Path:
    """This machine's build of ``extension`` from the dev venv, at the artifact's version."""
    relative = extension.relative_to(site).as_posix()
    name, version = _owner(site, relative)
    venv_version = importlib.metadata.version(name)
    if venv_version != version:
        raise LookupError(
            f"{relative}: the build ships {name} {version}, the dev venv {venv_version}: "
            "pin the same version in requirements-dev.txt (make venv)"
        )
    host = relative.removesuffix(_ARM64_SUFFIX) + str(sysconfig.get_config_var("EXT_SUFFIX"))
    return Path(sysconfig.get_paths()["purelib"], host)


def _foreign_extensions(build: Path) -> Iterator[tuple[Path, Path]]:
    """(site folder, extension) for each arm64 extension module in the build."""
    for extension in sorted(build.rglob(f"*{_ARM64_SUFFIX}")):
        site = next(p for p in extension.parents if any(p.glob("*.dist-info")))
        yield site, extension


@contextmanager
def runnable_build(build: Path, scratch: Path) -> Iterator[Path]:
    """The build itself on an arm64 machine; elsewhere a copy with this machine's extensions."""
    if sysconfig.get_config_var("EXT_SUFFIX") == _ARM64_SUFFIX:
        yield build
        return
    copy = scratch / "build"
    shutil.copytree(build, copy)
    for site, extension in _foreign_extensions(copy):
        shutil.copy2(_host_extension(site, extension), extension.parent)
        extension.unlink()
    try:
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)
