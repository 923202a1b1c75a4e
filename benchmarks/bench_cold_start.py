"""Cold start of every function from what `make build` ships, next to the dev venv's figure.

- ``<function>.cold_import_ms``: median of 7 fresh python3.13 processes (after one unmeasured
  run) each timing the import of the function's handler module, with nothing on ``sys.path``
  but the function's build folder, its layers' ``python/`` folders and the runtime-like SDK
  (``-I -S``: no dev venv site-packages; ``-B``: no bytecode written, as /var/task and /opt are
  read-only). See benchmarks/built_artifacts.py for how the build, the SDK and (off arm64) the
  native extensions are prepared. As in Lambda:
  - the environment is the template's variables plus what Lambda sets (``LAMBDA_TASK_ROOT``...),
    so Powertools Tracer is on and patches botocore at import, as with ``Tracing: Active``;
  - the standard-library modules the runtime's bootstrap (awslambdaric's bootstrap.py and
    lambda_runtime_client.py) imports before it imports the handler are loaded first, untimed.
  Baseline: the same import, same environment, from functions/<function> and layers/shared in
  the dev venv (which has bytecode: the unmeasured first run writes it).

Goal: every function at or under 350 ms. The figures are wall-clock time: when other processes
held the CPU (wall well above the import's CPU time), the bench says so, and the CPU time is the
better guide.
"""

import os
import tempfile
from pathlib import Path

from benchmarks.built_artifacts import (
    BuiltFunction,
    built_functions,
    ensure_build,
    runnable_build,
    runtime_sdk_dir,
)
from benchmarks.results import ROOT, BenchResult, ImportTimes, cold_import_times

REGION = "us-east-1"
RUNTIME_BOOTSTRAP_IMPORTS = (
    "import concurrent.futures, importlib, json, logging, os, sys, time, traceback"
)


def lambda_environment(function: BuiltFunction, task_root: Path) -> dict[str, str]:
    """The variables Lambda sets for a python3.13 function, over the template's own."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        **function.environment,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": f"datalake-events-{function.logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": f"{function.handler_module}.lambda_handler",
    }


def _times(
    function: BuiltFunction,
    paths: list[Path],
    task_root: Path,
    scratch: Path,
    flags: tuple[str, ...] = (),
) -> ImportTimes:
    return cold_import_times(
        f"import {function.handler_module}",
        extra_paths=paths,
        env=lambda_environment(function, task_root),
        flags=flags,
        cwd=scratch,
        setup=RUNTIME_BOOTSTRAP_IMPORTS,
    )


def _measure(function: BuiltFunction, build: Path, sdk: Path, scratch: Path) -> BenchResult:
    task_root = build / function.logical_id
    layers = [build / layer / "python" for layer in function.layer_ids]
    # The runtime's SDK sits after the function and its layers on Lambda's path too.
    built = _times(function, [task_root, *layers, sdk], task_root, scratch, ("-B", "-I", "-S"))
    source = function.source_dir
    in_venv = _times(function, [source, ROOT / "layers" / "shared"], source, scratch)
    if built.contended:
        print(
            f"cold start bench: {function.name}: CPU busy with other work, "
            f"{built.wall_ms:.0f} ms wall for {built.cpu_ms:.0f} ms of CPU"
        )
    return BenchResult(
        name=f"{function.name}.cold_import_ms",
        value=built.wall_ms,
        unit="ms",
        better="lower",
        baseline=in_venv.wall_ms,
    )


def run() -> list[BenchResult]:
    build = ensure_build()
    sdk = runtime_sdk_dir()
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        scratch = Path(tmp)
        with runnable_build(build, scratch) as runnable:
            return [_measure(f, runnable, sdk, scratch) for f in built_functions()]
