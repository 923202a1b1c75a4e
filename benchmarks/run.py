"""`make bench`: run every benchmark module, print a table, write benchmarks/results.json.

Each ``benchmarks/bench_*.py`` exposes ``run() -> list[BenchResult]``. ``python -m
benchmarks.run glue_merge`` runs the modules whose name holds a word given, and updates only their
entries of results.json. Values are measured in
this run, and so are the baselines (the source posts' naive approach, side by side).
"""

import importlib
import os
import sys
from pathlib import Path

from dev.paths import project_paths

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main() -> int:
    # The paths the tests import from (pyproject.toml's pytest pythonpath), test helpers too:
    # some benchmarks drive the code with the tests' in-memory collaborators.
    sys.path[:0] = [str(path) for path in project_paths(include_tests=True)]
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DatalakeEvents")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    from benchmarks.results import (  # noqa: PLC0415
        BenchResult,
        merged_with_previous,
        print_table,
        write_json,
    )

    only = sys.argv[1:]
    results: list[BenchResult] = []
    for module_path in sorted(HERE.glob("bench_*.py")):
        if only and not any(name in module_path.stem for name in only):
            continue
        module = importlib.import_module(f"benchmarks.{module_path.stem}")
        results.extend(module.run())
    print_table(results)
    if only:  # a partial run updates its own entries and keeps the others
        results = merged_with_previous(results, HERE / "results.json")
    write_json(results, HERE / "results.json")
    print(f"\nwrote {HERE / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
