"""`make mutation`'s set-up: each suite names real modules and tests, its workspace holds the
code as Lambda imports it, and a score counts what mutmut found the way docs/testing.md says."""

import tomllib
from pathlib import Path

import pytest
from pins import pins

from tools.mutation import (
    ROOT,
    SUITES,
    MutationSuite,
    build_workspace,
    main,
    pyproject_text,
    score_module,
    source_file,
    workspace_file,
)

# The modules the mutation issue names as able to lose or corrupt data.
DATA_CRITICAL = {
    "cdc_merge.leases",
    "cdc_merge.merge_sql",
    "cdc_merge.table_configs",
    "iceberg_cdc.sql",
    "iceberg_cdc.changes",
    "iceberg_cdc.service",
    "file_tracker.service",
    "file_tracker.store",
    "pipeline_metrics.csv_rows",
    "datalake_shared.slack.webhook",
    "batch_planner.service",
}
ALL_MODULES = [module for suite in SUITES for module in suite.modules]


def test_every_data_critical_module_is_mutated_once() -> None:
    # Given the suites / Then each named module is in exactly one of them
    assert set(ALL_MODULES) >= DATA_CRITICAL
    assert len(ALL_MODULES) == len(set(ALL_MODULES))


@pytest.mark.parametrize("module", ALL_MODULES)
def test_each_module_is_a_project_file(module: str) -> None:
    # Given a mutated module / When placed in a workspace / Then it is the project's file there
    relative = workspace_file(module)
    assert relative.parts[0] == "src"
    assert relative.parts[1] == module.split(".", maxsplit=1)[0]
    assert relative.suffix == ".py"
    original = source_file(module)
    assert original.is_file()
    assert original.parts[-len(relative.parts) + 1 :] == relative.parts[1:]


@pytest.mark.parametrize("suite", SUITES, ids=lambda suite: suite.name)
def test_each_suite_tests_exist_and_are_unit_tests(suite: MutationSuite) -> None:
    # Given a suite / Then its tests and ignored files exist, all in the unit tier
    for path in (*suite.tests, *suite.ignored):
        assert (ROOT / path).exists(), path
        assert path.startswith("tests/unit/")


@pytest.mark.parametrize("suite", SUITES, ids=lambda suite: suite.name)
def test_the_workspace_settings_mutate_only_the_suites_modules(suite: MutationSuite) -> None:
    # Given a suite / When its workspace settings are written
    settings = tomllib.loads(pyproject_text(suite))["tool"]
    mutmut, pytest_options = settings["mutmut"], settings["pytest"]["ini_options"]
    # Then mutmut mutates exactly its modules, from src/, against its own tests
    assert mutmut["source_paths"] == ["src"]
    assert mutmut["only_mutate"] == [str(workspace_file(m)) for m in suite.modules]
    assert mutmut["pytest_add_cli_args_test_selection"][: len(suite.tests)] == list(suite.tests)
    # And the code is imported from the mutated copy only (no project code folder on the path)
    assert not [p for p in pytest_options["pythonpath"] if p.startswith(("functions", "layers"))]
    # And Hypothesis draws the same examples on every run
    assert "--hypothesis-seed=0" in mutmut["pytest_add_cli_args"]


def test_a_workspace_holds_copies_of_the_code_packages(tmp_path: Path) -> None:
    # Given a suite / When its workspace is built
    suite = next(s for s in SUITES if s.name == "file_tracker")
    workspace = build_workspace(suite, tmp_path)
    # Then each module is a real copy (mutmut walks folders without following links)
    for module in suite.modules:
        copied = workspace / workspace_file(module)
        assert copied.is_file()
        assert not copied.is_symlink()
    assert (workspace / "src" / "datalake_shared" / "__init__.py").is_file()
    assert (workspace / "tests" / "unit" / "conftest.py").is_file()
    assert (workspace / "template.yaml").is_file()
    assert not list(workspace.rglob("__pycache__"))


def test_a_rebuilt_workspace_discards_the_previous_run(tmp_path: Path) -> None:
    # Given a workspace with an earlier run's results
    suite = next(s for s in SUITES if s.name == "pipeline_metrics")
    stale = build_workspace(suite, tmp_path) / "mutants" / "stale.meta"
    stale.parent.mkdir()
    stale.write_text("{}")
    # When it is built again / Then nothing of the earlier run is left
    build_workspace(suite, tmp_path)
    assert not stale.exists()


def test_a_score_counts_killed_over_killed_and_survived() -> None:
    # Given mutmut's exit codes: killed (1), timeout (36), type-checked (37), survived (0),
    # no test reached (33), skipped (34) and not run (None)
    codes: dict[str, int | None] = {
        "m.x_a__mutmut_1": 1,
        "m.x_a__mutmut_2": 36,
        "m.x_a__mutmut_3": 37,
        "m.x_a__mutmut_4": 0,
        "m.x_a__mutmut_5": 33,
        "m.x_a__mutmut_6": 34,
        "m.x_a__mutmut_7": None,
    }
    # When scored
    score = score_module("m", codes)
    # Then a mutant no test reaches is a survivor; skipped and unrun ones are not scored
    assert (score.killed, score.survived, score.skipped, score.unchecked) == (3, 2, 1, 1)
    assert score.survivors == ("m.x_a__mutmut_4", "m.x_a__mutmut_5")
    assert score.percent == pytest.approx(60.0)


def test_a_module_without_mutants_scores_nothing_to_find() -> None:
    assert score_module("m", {}).percent == 100.0


def test_an_unknown_suite_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["no_such_suite"])
    assert exit_info.value.code == 2
    assert "no_such_suite" in capsys.readouterr().err


def test_mutmuts_pins_agree_with_the_dev_venvs() -> None:
    # Given mutmut's requirements (installed into the dev venv with --no-deps) and the dev pins
    requirements = (ROOT / "requirements-mutation.txt").read_text().splitlines()
    mutation, dev = pins(ROOT / "requirements-mutation.txt"), pins(ROOT / "constraints.txt")
    assert all("==" in line for line in requirements if line and not line.startswith("#")), (
        "requirements-mutation.txt: every line pinned with =="
    )
    # Then mutmut is pinned, and nothing it brings changes a package the tests already use
    assert "mutmut" in mutation
    assert {name: dev[name] for name in mutation if name in dev} == {
        name: version for name, version in mutation.items() if name in dev
    }
