"""The config loader runs each reconciler after the store has applied a valid file, reports
what each changed, and runs none for a rejected file."""

from dataclasses import dataclass, field
from typing import Any

import pytest
from config_loader_fakes import BUCKET, FakeApplier, FakeObjects, sample_config_text
from eventbridge_fake import RecordingPublisher

from config_loader.service import CONFIG_APPLIED, ConfigLoader, LoadOutcome
from datalake_shared.config_reconcile import Reconciliation, reconcile_all
from datalake_shared.pipeline_config import PipelineConfig

VALID_KEY = "config/pipeline.yaml"
BROKEN_KEY = "config/broken.yaml"


@dataclass
class RecordingReconciler:
    name: str
    result: Reconciliation = field(default_factory=Reconciliation)
    seen: list[PipelineConfig] = field(default_factory=list)
    calls: list[str] | None = None  # shared between reconcilers: the order they ran in
    refuses: list[str] = field(default_factory=list)

    def problems(self, config: PipelineConfig) -> list[str]:
        return list(self.refuses)

    def reconcile(self, config: PipelineConfig) -> Reconciliation:
        self.seen.append(config)
        if self.calls is not None:
            self.calls.append(self.name)
        return self.result


class FailingReconciler:
    name = "failing"

    def problems(self, config: PipelineConfig) -> list[str]:
        return []

    def reconcile(self, config: PipelineConfig) -> Reconciliation:
        raise ConnectionError("scheduler unavailable")


class ApplierRecordingOrder(FakeApplier):
    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.calls = calls

    def apply(self, config: PipelineConfig) -> Any:
        self.calls.append("store")
        return super().apply(config)


def loader_with(
    objects: FakeObjects, applier: FakeApplier, *reconcilers: Any
) -> tuple[ConfigLoader, RecordingPublisher]:
    events = RecordingPublisher()
    loader = ConfigLoader(
        objects, applier, events, frozenset({"sales", "inventory"}), reconcilers=reconcilers
    )
    return loader, events


@pytest.fixture
def objects() -> FakeObjects:
    objects = FakeObjects()
    objects.add(VALID_KEY, sample_config_text("pipeline.yaml"))
    objects.add(BROKEN_KEY, sample_config_text("broken.yaml"))
    return objects


def test_reconcilers_run_after_the_store_in_their_order(objects: FakeObjects) -> None:
    # Given two reconcilers
    calls: list[str] = []
    first = RecordingReconciler("first", calls=calls)
    second = RecordingReconciler("second", calls=calls)
    loader, _ = loader_with(objects, ApplierRecordingOrder(calls), first, second)
    # When a valid file is loaded
    result = loader.load(BUCKET, VALID_KEY, 100)
    # Then the store applies it first, then each reconciler sees the applied config
    assert result.outcome is LoadOutcome.APPLIED
    assert calls == ["store", "first", "second"]
    assert first.seen == second.seen != []


def test_what_each_reconciler_changed_is_in_the_summary_and_the_event(
    objects: FakeObjects,
) -> None:
    # Given a reconciler that creates one resource and leaves two as they are
    changed = Reconciliation(created=("15min",), unchanged=("hourly", "daily"))
    loader, events = loader_with(objects, FakeApplier(), RecordingReconciler("schedules", changed))
    # When a valid file is loaded
    result = loader.load(BUCKET, VALID_KEY, 100)
    # Then the result and the Config Applied event say so
    expected = {"created": ["15min"], "updated": [], "removed": [], "unchanged": 2}
    assert result.summary()["reconciled"] == {"schedules": expected}
    [(detail_type, detail, _)] = events.published
    assert detail_type == CONFIG_APPLIED
    assert detail["reconciled"] == {"schedules": expected}


def test_a_rejected_file_runs_no_reconciler(objects: FakeObjects) -> None:
    # Given a reconciler / When an invalid file is loaded
    reconciler = RecordingReconciler("schedules")
    loader, _ = loader_with(objects, FakeApplier(), reconciler)
    result = loader.load(BUCKET, BROKEN_KEY, 100)
    # Then nothing is reconciled
    assert result.outcome is LoadOutcome.REJECTED
    assert reconciler.seen == []


def test_a_reconciler_error_is_raised_for_lambdas_retry(objects: FakeObjects) -> None:
    # Given a reconciler whose AWS call fails
    loader, events = loader_with(objects, FakeApplier(), FailingReconciler())
    # When a valid file is loaded / Then the error propagates (the retry re-applies all)
    with pytest.raises(ConnectionError):
        loader.load(BUCKET, VALID_KEY, 100)
    # and no Config Applied event claims success
    assert events.published == []


def test_no_reconcilers_leave_the_summary_without_a_reconciled_entry(
    objects: FakeObjects,
) -> None:
    loader, events = loader_with(objects, FakeApplier())
    result = loader.load(BUCKET, VALID_KEY, 100)
    assert "reconciled" not in result.summary()
    assert "reconciled" not in events.published[0][1]


def test_reconcile_all_keys_results_by_reconciler_name() -> None:
    config = PipelineConfig.model_validate(
        {"batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}]}
    )
    results = reconcile_all(
        [RecordingReconciler("a", Reconciliation(removed=("x",))), RecordingReconciler("b")],
        config,
    )
    assert results["a"].changed
    assert not results["b"].changed


def test_a_problem_a_reconciler_finds_rejects_the_file_before_anything_is_written(
    objects: FakeObjects,
) -> None:
    # Given a reconciler that cannot apply the file (say, a CDC table without a stream)
    applier = FakeApplier()
    refusing = RecordingReconciler("cdc_tables", refuses=["cdc_tables: 'cdc-x' has no stream"])
    other = RecordingReconciler("schedules")
    loader, _ = loader_with(objects, applier, other, refusing)
    # When a valid file is loaded
    result = loader.load(BUCKET, VALID_KEY, 100)
    # Then it is rejected whole with the problem: nothing stored, nothing reconciled
    assert result.outcome is LoadOutcome.REJECTED
    assert result.problems == ("cdc_tables: 'cdc-x' has no stream",)
    assert applier.applied == []
    assert other.seen == refusing.seen == []
    assert objects.text(f"{VALID_KEY}.rejected.txt") is not None
