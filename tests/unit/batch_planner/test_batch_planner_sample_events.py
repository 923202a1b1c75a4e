"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from batch_planner_fakes import app, load_event
from lambda_support import sample_event_names

SAMPLES = sample_event_names("batch_planner")


def test_corpus_holds_the_documented_cases() -> None:
    # Given events/batch_planner / Then the tick, the unknown-cadence case and the nightly
    # maintenance request are there
    assert set(SAMPLES) >= {"hourly_tick.json", "unknown_cadence.json", "maintenance_run.json"}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_a_valid_planner_input(name: str) -> None:
    # Given a sample / When parsed with the handler's model for its shape
    event = load_event(name)
    model = app.MaintenanceRequest if "maintenance" in event else app.PlanRequest
    # Then it is valid and complete
    assert model.model_validate(event).model_dump() == event


def test_tick_is_what_the_state_machine_passes() -> None:
    # Given the hourly tick / Then it names the cadence and a run id derived from the schedule
    assert load_event("hourly_tick.json") == {
        "cadence": "hourly",
        "run_id": "hourly-2026-11-23T10-00-00Z",
    }
