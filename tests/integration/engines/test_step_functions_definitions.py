"""Every state machine definition, as deployed (template.yaml's DefinitionSubstitutions applied
with realistic ARNs and names), passes both ASL validators: npm's asl-validator and PyPI's
statelint. moto's interpreter runs definitions that either would refuse.

statelint wants a float BackoffRate (awslabs/statelint#35): the definitions write ``2.0``,
which both validators accept, instead of filtering the complaint.
"""

import json
import subprocess
from dataclasses import dataclass

import pytest
from statelint.config import Config  # type: ignore[import-untyped]
from statelint.linter import Linter  # type: ignore[import-untyped]

from local_runtime.real_engines import asl_validator
from tests.integration.engines.asl_definitions import (
    ROOT,
    StateMachineDefinition,
    state_machine_definitions,
    unsubstituted,
)
from tests.integration.engines.conftest import require_engine

DEFINITIONS = state_machine_definitions()
IDS = [definition.file.name for definition in DEFINITIONS]


def test_every_state_machine_file_is_checked() -> None:
    # Given the ASL files of statemachines/ / When listed against the template's state machines
    files = sorted(path.resolve() for path in (ROOT / "statemachines").glob("*.asl.json"))
    # Then each file is the definition of a state machine checked here
    assert sorted(definition.file for definition in DEFINITIONS) == files


@pytest.mark.parametrize("machine", DEFINITIONS, ids=IDS)
def test_every_placeholder_has_a_substitution(machine: StateMachineDefinition) -> None:
    # Given a definition with the template's substitutions applied
    # When its text is searched for ${...} / Then none is left for Step Functions to keep verbatim
    assert unsubstituted(machine.text) == []


@dataclass(frozen=True)
class ValidatorRun:
    returncode: int
    stdout: str
    stderr: str


def broken(machine: StateMachineDefinition) -> str:
    """The definition with its start state pointing nowhere: both validators must refuse it."""
    definition = machine.definition
    definition["StartAt"] = "NoSuchState"
    return json.dumps(definition)


BROKEN = "broken.asl.json"


@pytest.fixture(scope="module")
def asl_validator_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ValidatorRun]:
    """asl-validator's verdict on each substituted definition, and on a broken one (file name ->
    run). One process per file, all at once: node's start-up dominates, and the exit code stays
    per definition."""
    binary = require_engine(asl_validator)
    folder = tmp_path_factory.mktemp("asl")
    texts = {machine.file.name: machine.text for machine in DEFINITIONS}
    texts[BROKEN] = broken(DEFINITIONS[0])
    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        for name, text in texts.items():
            (folder / name).write_text(text)
            processes[name] = subprocess.Popen(
                [str(binary), "--json-path", str(folder / name)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        runs: dict[str, ValidatorRun] = {}
        for name, process in processes.items():
            stdout, stderr = process.communicate(timeout=60)
            runs[name] = ValidatorRun(process.returncode, stdout, stderr)
        return runs
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.parametrize("machine", DEFINITIONS, ids=IDS)
def test_asl_validator_accepts_the_definition(
    machine: StateMachineDefinition, asl_validator_runs: dict[str, ValidatorRun]
) -> None:
    # Given asl-validator (npm) run on the substituted definition, ARNs and paths checked
    run = asl_validator_runs[machine.file.name]
    # Then it exits 0 and says the definition is valid
    report = f"stdout: {run.stdout}\nstderr: {run.stderr}"
    assert run.returncode == 0, report
    assert f'{machine.file.name}" is valid' in run.stdout, report


def test_asl_validator_rejects_a_broken_definition(
    asl_validator_runs: dict[str, ValidatorRun],
) -> None:
    # Given asl-validator run on a definition whose StartAt names no state
    run = asl_validator_runs[BROKEN]
    # Then it exits 1 (invalid) and says why: this harness can fail
    assert run.returncode == 1, run.stdout
    assert "is invalid" in run.stderr


@pytest.mark.parametrize("machine", DEFINITIONS, ids=IDS)
def test_statelint_finds_no_problem(machine: StateMachineDefinition) -> None:
    # Given the substituted definition / When statelint lints it, nothing ignored
    problems = Linter.validate(json.loads(machine.text), Config())
    # Then it reports no problem
    assert problems == []


def test_statelint_rejects_a_broken_definition() -> None:
    # Given a definition whose StartAt names no state / When linted
    problems = Linter.validate(json.loads(broken(DEFINITIONS[0])), Config())
    # Then statelint names the problem: this harness can fail
    assert any("NoSuchState" in problem for problem in problems)
