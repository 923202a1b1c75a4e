"""Reconcilers: what a pipeline config asks of AWS beyond the config tables.

Applying a config writes its items to DynamoDB (``config_store``); some entries also need
resources outside it, created, updated and removed as the config changes: a schedule per cadence,
a stream mapping per CDC table, a log subscription per Redshift log group. Each such part is a
``ConfigReconciler``: after the store has applied the file, it makes its resources match the
stored configuration and says what it changed. Reconcilers are idempotent (applying the same
file twice changes nothing the second time), so a retried load is safe, and they raise on AWS
errors so that the load is retried.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from datalake_shared.pipeline_config import PipelineConfig


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What one reconciler changed, by resource name."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    def summary(self) -> dict[str, list[str] | int]:
        return {
            "created": list(self.created),
            "updated": list(self.updated),
            "removed": list(self.removed),
            "unchanged": len(self.unchanged),
        }

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


class ConfigReconciler(Protocol):
    @property
    def name(self) -> str:
        """What it reconciles, e.g. "cadence_schedules" (the key of its summary)."""
        ...

    def problems(self, config: PipelineConfig) -> list[str]:
        """What in ``config`` this part cannot apply (a table without a stream, say), checked
        before anything is written: any problem rejects the file whole."""
        ...

    def reconcile(self, config: PipelineConfig) -> Reconciliation:
        """Makes this part's resources match the stored configuration, after ``config`` (the
        file just applied) has been written."""
        ...


def problems_of_all(reconcilers: Iterable[ConfigReconciler], config: PipelineConfig) -> list[str]:
    """Every reconciler's problems with ``config``, before anything is applied."""
    return [problem for reconciler in reconcilers for problem in reconciler.problems(config)]


def reconcile_all(
    reconcilers: Iterable[ConfigReconciler], config: PipelineConfig
) -> dict[str, Reconciliation]:
    """Runs each reconciler in turn; the first AWS error stops the rest (the retry redoes all)."""
    return {reconciler.name: reconciler.reconcile(config) for reconciler in reconcilers}
