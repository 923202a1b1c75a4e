"""`make mutation`: mutation testing of the modules that can lose or corrupt data.

    python -m tools.mutation                      # every suite, scores into benchmarks/results.json
    python -m tools.mutation iceberg_cdc slack    # the suites named (their entries only)
    python -m tools.mutation --list               # the suites, their modules and tests

Each suite mutates its modules against its own unit tests only (a mutant another capability's
test happens to kill does not count). mutmut wants the mutated code importable under its own
module name from ``src/`` and runs pytest inside a copy of the project, so each suite gets a
workspace of its own under ``.mutation/<suite>/``: the code packages side by side in ``src/``
(as Lambda's sys.path has them), the files the tests read, and a pyproject.toml holding mutmut's
and pytest's settings. Hypothesis runs with a fixed seed, so a score is the same on every run.

Survivors are listed in ``.mutation/<suite>/survivors.txt`` with their diffs (``--diffs``); the
ones accepted as equivalent or cosmetic are described in docs/testing.md.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.results import BenchResult, merged_with_previous, write_json
from dev.paths import ROOT, project_paths

WORKSPACES: Final = ROOT / ".mutation"
RESULTS: Final = ROOT / "benchmarks" / "results.json"
GOAL_PERCENT: Final = 90.0

# What the tests read besides the code (the template, sample events, SQL, config samples) and
# import from the project root (the local runtime and its helpers).
PROJECT_FILES: Final = (
    "conftest.py",
    "template.yaml",
    "samconfig.toml",
    "events",
    "config",
    "athena",
    "statemachines",
    "docs",
    "README.md",
    "local_runtime",
    "dev",
    "tools",
    "scripts",
    "benchmarks",
)

# mutmut's exit codes, as its own results command reads them; any other code is a detection
# (killed, timeout, caught by the type check, suspicious, segfault).
_SURVIVED_CODES: Final = frozenset({0, 5, 33})
_SKIPPED_CODES: Final = frozenset({34})


@dataclass(frozen=True)
class MutationSuite:
    """Modules mutated together, against the unit tests of the capability they belong to."""

    name: str
    modules: tuple[str, ...]  # dotted module names, as the code imports them
    tests: tuple[str, ...]  # project-relative test files or folders
    # Tests of packaging, not behaviour: they build from the project's own folders, which a
    # workspace lays out differently.
    ignored: tuple[str, ...] = ()

    def test_selection(self) -> list[str]:
        return [*self.tests, *(f"--ignore={path}" for path in self.ignored)]


SUITES: Final = (
    MutationSuite(
        "glue_merge",
        ("cdc_merge.leases", "cdc_merge.merge_sql", "cdc_merge.table_configs"),
        ("tests/unit/glue_merge",),
        ignored=(
            "tests/unit/glue_merge/test_glue_bundle.py",
            "tests/unit/glue_merge/test_glue_bundle_fresh.py",
            "tests/unit/glue_merge/test_glue_merge_package.py",
        ),
    ),
    MutationSuite(
        "iceberg_cdc",
        ("iceberg_cdc.sql", "iceberg_cdc.changes", "iceberg_cdc.service"),
        ("tests/unit/iceberg_cdc",),
    ),
    MutationSuite(
        "file_tracker",
        ("file_tracker.service", "file_tracker.store"),
        ("tests/unit/file_tracker",),
    ),
    MutationSuite(
        "pipeline_metrics", ("pipeline_metrics.csv_rows",), ("tests/unit/pipeline_metrics",)
    ),
    MutationSuite(
        "slack",
        (
            "datalake_shared.slack.webhook",
            "datalake_shared.slack.webhook_url",
            "datalake_shared.slack.posters",
            "datalake_shared.slack.blocks",
        ),
        # The webhook's own tests, and the two alert renderers' tests for the blocks they build.
        (
            "tests/unit/test_slack_webhook.py",
            "tests/unit/test_slack_webhook_url.py",
            "tests/unit/test_slack_posters.py",
            "tests/unit/test_slack_blocks.py",
            "tests/unit/pipeline_monitor/test_pipeline_monitor_alerts.py",
            "tests/unit/redshift_audit/test_redshift_audit_alerts.py",
        ),
    ),
    MutationSuite("batch_planner", ("batch_planner.service",), ("tests/unit/batch_planner",)),
)


def code_packages() -> list[Path]:
    """The code packages as Lambda and Glue import them: the packages in the code folders of
    pytest's pythonpath (each function's, the layer's, the job's), not the root's tooling."""
    folders = [path for path in project_paths() if path not in (ROOT, ROOT / "scripts")]
    return [
        package
        for folder in folders
        for package in sorted(folder.iterdir())
        if (package / "__init__.py").is_file()
    ]


def _package(module: str) -> Path:
    top = module.partition(".")[0]
    return next(package for package in code_packages() if package.name == top)


def source_file(module: str) -> Path:
    """The project file holding ``module``."""
    package, inner = _package(module), module.split(".")[1:]
    as_package = package.joinpath(*inner, "__init__.py")
    return as_package if as_package.exists() else package.joinpath(*inner).with_suffix(".py")


def workspace_file(module: str) -> Path:
    """Where ``module`` sits in a workspace (``src/<package>/...``)."""
    package = _package(module)
    return Path("src", package.name) / source_file(module).relative_to(package)


class SuiteFailedError(RuntimeError):
    """mutmut could not score a suite (its tests fail unmutated, or it stopped)."""


@dataclass(frozen=True)
class ModuleScore:
    module: str
    killed: int
    survived: int
    skipped: int
    unchecked: int
    survivors: tuple[str, ...]

    @property
    def total(self) -> int:
        return self.killed + self.survived

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0


def score_module(module: str, exit_code_by_mutant: Mapping[str, int | None]) -> ModuleScore:
    """Killed over killed + survived; a mutant no test reaches counts as survived, a timeout or a
    type-check catch as killed, and a mutant never run is reported, not scored."""
    counts: Counter[str] = Counter()
    survivors = []
    for name, code in sorted(exit_code_by_mutant.items()):
        if code is None:
            counts["unchecked"] += 1
        elif code in _SKIPPED_CODES:
            counts["skipped"] += 1
        elif code in _SURVIVED_CODES:
            counts["survived"] += 1
            survivors.append(name)
        else:
            counts["killed"] += 1
    return ModuleScore(
        module,
        killed=counts["killed"],
        survived=counts["survived"],
        skipped=counts["skipped"],
        unchecked=counts["unchecked"],
        survivors=tuple(survivors),
    )


def pyproject_text(suite: MutationSuite) -> str:
    """mutmut's and pytest's settings for a suite's workspace (pytest runs in ``mutants/``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pytest_options = dict(project["tool"]["pytest"]["ini_options"])
    pytest_options["pythonpath"] = [
        "src",
        ".",
        "scripts",
        *(p for p in pytest_options["pythonpath"] if p.startswith("tests")),
    ]
    pytest_options["testpaths"] = list(suite.tests)
    mutmut_options = {
        "source_paths": ["src"],
        "only_mutate": [str(workspace_file(module)) for module in suite.modules],
        "pytest_add_cli_args_test_selection": suite.test_selection(),
        # A fixed seed: Hypothesis draws the same examples for every mutant and every run. No
        # capture (-s): mutmut runs pytest several times in one process, and the Powertools
        # logger would keep writing to the first run's closed capture stream.
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "--hypothesis-seed=0", "-q", "-s"],
        "also_copy": [*PROJECT_FILES],
    }
    return _toml({"tool.mutmut": mutmut_options, "tool.pytest.ini_options": pytest_options})


def _toml(tables: Mapping[str, Mapping[str, object]]) -> str:
    """Tables of strings and lists of strings as TOML (JSON's string and list syntax is TOML's)."""
    return "\n".join(
        f"[{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())
        for name, table in tables.items()
    )


def build_workspace(suite: MutationSuite, workspaces: Path = WORKSPACES) -> Path:
    """A fresh workspace for ``suite``: every previous result of it is discarded."""
    workspace = workspaces / suite.name
    if workspace.exists():
        shutil.rmtree(workspace)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in code_packages():
        shutil.copytree(package, workspace / "src" / package.name, ignore=ignore)
    shutil.copytree(ROOT / "tests", workspace / "tests", ignore=ignore)
    for name in PROJECT_FILES:
        source, target = ROOT / name, workspace / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    (workspace / "pyproject.toml").write_text(pyproject_text(suite))
    return workspace


def run_suite(suite: MutationSuite, *, max_children: int, diffs: bool) -> list[ModuleScore]:
    workspace = build_workspace(suite)
    mutmut = Path(sys.executable).with_name("mutmut")
    print(f"== {suite.name}: {', '.join(suite.modules)} against {' '.join(suite.tests)}")
    command = [str(mutmut), "run", "--max-children", str(max_children)]
    run = subprocess.run(command, cwd=workspace, check=False)  # noqa: S603 (the venv's mutmut)
    if run.returncode != 0:
        raise SuiteFailedError(f"{suite.name}: mutmut run exited {run.returncode}")
    scores = [score_module(module, _exit_codes(workspace, module)) for module in suite.modules]
    _write_survivors(workspace, scores, mutmut if diffs else None)
    return scores


def _exit_codes(workspace: Path, module: str) -> dict[str, int | None]:
    meta = workspace / "mutants" / workspace_file(module).with_suffix(".py.meta")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return codes


def _write_survivors(workspace: Path, scores: Iterable[ModuleScore], mutmut: Path | None) -> None:
    lines = []
    for score in scores:
        for name in score.survivors:
            lines.append(name)
            if mutmut is not None:
                shown = subprocess.run(  # noqa: S603 (the venv's mutmut)
                    [str(mutmut), "show", name],
                    cwd=workspace,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                lines.append(shown.stdout)
    (workspace / "survivors.txt").write_text("\n".join(lines) + "\n")


def bench_results(scores: Iterable[ModuleScore]) -> list[BenchResult]:
    return [
        BenchResult(f"mutation.{score.module}.score", round(score.percent, 1), "%", "higher")
        for score in scores
    ]


def print_scores(scores: Sequence[ModuleScore]) -> None:
    print(f"\n{'module':40} {'killed':>7} {'survived':>8} {'score':>7}")
    for s in scores:
        mark = "" if s.percent >= GOAL_PERCENT else f"  below {GOAL_PERCENT:.0f}%"
        note = f"  ({s.unchecked} not run)" if s.unchecked else ""
        print(f"{s.module:40} {s.killed:7} {s.survived:8} {s.percent:6.1f}%{mark}{note}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", help="suite names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the suites and stop")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--diffs", action="store_true", help="each survivor's diff in survivors.txt"
    )
    args = parser.parse_args(argv)
    unknown = set(args.suites) - {suite.name for suite in SUITES}
    if unknown:
        parser.error(f"unknown suites: {', '.join(sorted(unknown))}")
    chosen = [suite for suite in SUITES if not args.suites or suite.name in args.suites]
    if args.list:
        for suite in chosen:
            print(f"{suite.name}: {', '.join(suite.modules)} <- {' '.join(suite.tests)}")
        return 0
    scores: list[ModuleScore] = []
    failures: list[str] = []
    for suite in chosen:
        try:
            scores.extend(run_suite(suite, max_children=args.max_children, diffs=args.diffs))
        except SuiteFailedError as failure:
            failures.append(str(failure))
    print_scores(scores)
    for message in failures:
        print(f"not scored: {message}")
    write_json(merged_with_previous(bench_results(scores), RESULTS), RESULTS)
    print(f"\nwrote {RESULTS}; survivors in {WORKSPACES}/<suite>/survivors.txt")
    return 0 if not failures and all(s.percent >= GOAL_PERCENT for s in scores) else 1


if __name__ == "__main__":
    raise SystemExit(main())
