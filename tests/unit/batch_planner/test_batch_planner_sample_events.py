"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from batch_planner_fakes import app, load_event
from lambda_support import sample_event_names

SAMPLES = sample_event_names("batch_planner")


def test_corpus_holds_the_documented_cases() -> None:
    # Given events/batch_planner / Then the tick and the unknown-cadence case are there
    assert set(SAMPLES) >= {"hourly_tick.json", "unknown_cadence.json"}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_a_valid_planner_input(name: str) -> None:
    # Given a sample / When parsed with the handler's model / Then it is valid and complete
    request = app.PlanRequest.model_validate(load_event(name))
    assert request.model_dump() == load_event(name)


def test_tick_is_what_the_state_machine_passes() -> None:
    # Given the hourly tick / Then it names the cadence and a run id derived from the schedule
    assert load_event("hourly_tick.json") == {
        "cadence": "hourly",
        "run_id": "hourly-2026-11-23T10-00-00Z",
    }
