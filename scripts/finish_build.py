"""Finishes `sam build`'s output for Lambda's python3.13 runtime: one SDK, and bytecode.

`sam build` leaves two things that cost every cold start:

- No bytecode. /var/task and /opt are read-only, so Lambda compiles every module it imports, on
  every cold start. We compile each artifact with ``--invalidation-mode unchecked-hash``: the
  runtime loads such a .pyc without looking at the source's timestamp (the zip's entries are
  dated 1980) or hash.
- A second SDK. aws-xray-sdk (Powertools Tracer) pulls botocore and its dependencies into the
  layer, where they would load ahead of the runtime's copies while boto3 and s3transfer still
  come from the runtime: a mismatched SDK, and ~29 MiB. We remove every distribution listed in
  scripts/lambda_runtime_sdk.txt (boto3 and its dependency closure) from every artifact, files
  and dist-info, by the wheel's RECORD.

It runs after every `sam build` (make build): `sam build` empties the build folder and, with
`--cached`, refills it from its cache and dependency folders (unfinished copies), so finishing
again is expected and idempotent. Anything SAM linked there instead of copying is copied
first, so its cache stays as SAM built it.

Usage: python scripts/finish_build.py [BUILD_DIR]   (default: .aws-sam/build)
"""

import compileall
import csv
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from py_compile import PycInvalidationMode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUILD_DIR = ROOT / ".aws-sam" / "build"
RUNTIME_SDK_FILE = Path(__file__).resolve().with_name("lambda_runtime_sdk.txt")
LAMBDA_PYTHON = (3, 13)
# Written last: its presence says the folder was finished after SAM's last build (`sam build`
# empties the build folder first, so a plain `sam build` afterwards removes it).
MARKER = "finished.json"
# Where an artifact keeps installed distributions: a function's root, a layer's python/ folder
# or its python/lib/python3.13/site-packages (the two paths Lambda adds for a layer).
_SITE_DIRS = (".", "python", "python/lib/python3.13/site-packages")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


class FinishError(Exception):
    """The build folder cannot be finished safely (the message says why)."""


@dataclass(frozen=True)
class ArtifactReport:
    name: str
    removed: tuple[str, ...]
    compiled: int


def normalize(name: str) -> str:
    """A distribution's canonical name (PEP 503): case and runs of -_. do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_sdk(path: Path = RUNTIME_SDK_FILE) -> dict[str, str]:
    """Canonical name -> pinned version of each distribution the runtime provides."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = _PIN.match(text)
        if match is None:
            raise FinishError(f"{path.name}: expected name==version, got {text!r}")
        pins[normalize(match[1])] = match[2]
    return pins


def site_dirs(artifact: Path) -> list[Path]:
    return [artifact / sub for sub in _SITE_DIRS if (artifact / sub).is_dir()]


def installed_distributions(site: Path) -> dict[str, Path]:
    """Canonical name -> .dist-info folder of each distribution installed directly in ``site``."""
    found = {}
    for dist_info in site.glob("*.dist-info"):
        name = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0]
        found[normalize(name)] = dist_info
    return found


def _owned_paths(site: Path, dist_info: Path) -> list[Path]:
    record = dist_info / "RECORD"
    if not record.is_file():
        raise FinishError(f"{dist_info}: no RECORD, cannot tell which files it owns")
    root = site.resolve()
    owned = []
    for row in csv.reader(record.read_text().splitlines()):
        path = (root / row[0]).resolve() if row else root
        # Scripts a wheel installs to ../../bin point outside the artifact: nothing to remove.
        if path != root and path.is_relative_to(root):
            owned.append(path)
    return owned


def remove_distribution(site: Path, dist_info: Path) -> None:
    """Delete a distribution's files (its RECORD), the folders it leaves empty, its dist-info."""
    root = site.resolve()
    owned = _owned_paths(site, dist_info)
    for path in owned:
        if path.is_file():
            path.unlink()
    # A package folder goes with it once nothing but bytecode is left in it.
    for top in {root / path.relative_to(root).parts[0] for path in owned}:
        if top.is_dir() and all(f.suffix == ".pyc" for f in top.rglob("*") if f.is_file()):
            shutil.rmtree(top)
    shutil.rmtree(dist_info, ignore_errors=True)


def remove_orphan_bytecode(artifact: Path) -> None:
    """Delete __pycache__ entries whose source is gone (Python never imports them)."""
    for cache in list(artifact.rglob("__pycache__")):
        for pyc in cache.glob("*.pyc"):
            if not (cache.parent / f"{pyc.name.split('.', 1)[0]}.py").exists():
                pyc.unlink()
        if not any(cache.iterdir()):
            cache.rmdir()


def _replace_link(link: Path) -> None:
    target = link.resolve()
    link.unlink()
    if target.is_dir():
        shutil.copytree(target, link)
    else:
        shutil.copy2(target, link)


def materialize(artifact: Path) -> None:
    """Replace every symbolic link in the artifact (the folder itself included) by a copy of what
    it points to. SAM links into its cache or dependency folders when asked to save copies
    (--cached, the BuildPerformance flag); finishing must never edit those."""
    if artifact.is_symlink():
        _replace_link(artifact)
    for folder, subfolders, files in os.walk(artifact):
        for name in [*subfolders, *files]:
            if (Path(folder) / name).is_symlink():
                _replace_link(Path(folder) / name)


def compile_artifact(artifact: Path) -> int:
    """Compile every module for this interpreter (3.13) with unchecked-hash pycs; count them."""
    if not compileall.compile_dir(
        artifact,
        quiet=1,
        force=True,
        optimize=0,  # Lambda runs without -O: the plain .cpython-313.pyc
        workers=0,
        invalidation_mode=PycInvalidationMode.UNCHECKED_HASH,
    ):
        raise FinishError(f"{artifact.name}: some modules do not compile on Python 3.13 (above)")
    return sum(1 for _ in artifact.rglob("*.py"))


def finish_artifact(artifact: Path, runtime: dict[str, str]) -> ArtifactReport:
    materialize(artifact)
    removed = []
    for site in site_dirs(artifact):
        for name, dist_info in sorted(installed_distributions(site).items()):
            if name in runtime:
                remove_distribution(site, dist_info)
                removed.append(name)
    remove_orphan_bytecode(artifact)
    return ArtifactReport(artifact.name, tuple(removed), compile_artifact(artifact))


def finish(build_dir: Path, runtime: dict[str, str] | None = None) -> list[ArtifactReport]:
    """Finish every artifact folder of ``build_dir``; write the marker last."""
    if sys.version_info[:2] != LAMBDA_PYTHON:
        raise FinishError(
            f"Python {sys.version_info.major}.{sys.version_info.minor} writes bytecode the "
            "python3.13 runtime ignores: run this with Python 3.13 (make build does)"
        )
    if not (build_dir / "template.yaml").is_file():
        raise FinishError(
            f"{build_dir} is not a sam build folder (no template.yaml): run sam build"
        )
    runtime = runtime_sdk() if runtime is None else runtime
    (build_dir / MARKER).unlink(missing_ok=True)
    artifacts = sorted(p for p in build_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    reports = [finish_artifact(artifact, runtime) for artifact in artifacts]
    marker = {
        "runtime_sdk": runtime,
        "artifacts": {r.name: {"removed": r.removed, "compiled": r.compiled} for r in reports},
    }
    (build_dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return reports


def main(argv: list[str]) -> int:
    build_dir = Path(argv[0]) if argv else DEFAULT_BUILD_DIR
    try:
        reports = finish(build_dir)
    except FinishError as error:
        print(f"finish_build: {error}", file=sys.stderr)
        return 1
    for report in reports:
        removed = ", ".join(report.removed) or "nothing"
        print(f"{report.name}: {report.compiled} modules compiled; removed {removed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
