"""Plans one scheduled run of a cadence: which tables to merge, in which Glue runs.

Pure logic: the configuration and the pending tables come in through two small protocols, so
the rules below are tested without AWS. A plan holds the cadence's *active* tables that have at
least one pending file, sorted by source table and cut into batches of ``batch_size`` tables;
each batch becomes one Glue job run in the state machine's Map (at most ``max_parallel_batches``
at a time). Nothing pending gives an empty plan, and the Map then runs zero times.
"""

import json
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Protocol, TypedDict

from datalake_shared.pipeline_config import BatchConfig, TableConfig

# Step Functions passes at most 256 KiB between states; a larger plan would fail the execution
# with States.DataLimitExceeded after the planner returned, far from the cause. The Lambda task's
# raw result wraps the plan in an envelope (StatusCode, response metadata and headers, ~1-2 KiB)
# before ResultSelector unwraps it, so the plan keeps 8 KiB clear of the limit.
STATE_PAYLOAD_LIMIT_BYTES: Final = 256 * 1024
INVOKE_ENVELOPE_ALLOWANCE_BYTES: Final = 8 * 1024
MAX_PLAN_BYTES: Final = STATE_PAYLOAD_LIMIT_BYTES - INVOKE_ENVELOPE_ALLOWANCE_BYTES
# Each batch's result (its id and status) ends in the run summary and its EventBridge event
# (256 KB): statemachines/batch_dispatch.asl.json works out the worst case.
MAX_BATCHES: Final = 500


class UnknownCadenceError(LookupError):
    """No batch configuration exists for the cadence the schedule asked to run."""


class PlanTooLargeError(ValueError):
    """The plan does not fit in a Step Functions state payload."""


class ConfigSource(Protocol):
    """Where the pipeline configuration is read from (the config tables in production)."""

    def load_batch_config(self, cadence: str) -> BatchConfig | None:
        """The cadence's batch configuration; None (or an error) when there is none."""
        ...

    def load_table_configs(self, cadence: str) -> Sequence[TableConfig]:
        """Every table configured for the cadence, active or not."""
        ...


class PendingTablesSource(Protocol):
    def pending_tables(self) -> set[str]:
        """The source tables ("<schema>.<table>") with at least one file waiting to be merged."""
        ...


class BatchOutput(TypedDict):
    batch_id: str
    cadence: str
    run_id: str
    # Names only: the Glue job reads each table's config itself, so a plan of thousands of
    # tables stays far below what Step Functions passes between states (256 KiB).
    tables: list[str]


class PlanOutput(TypedDict):
    """What the planner task hands the state machine (its Map iterates over ``batches``)."""

    cadence: str
    run_id: str
    glue_job_name: str
    max_concurrency: int
    worker_type: str
    number_of_workers: int
    table_count: int
    batch_count: int
    batches: list[BatchOutput]


@dataclass(frozen=True, slots=True)
class PlannedBatch:
    batch_id: str
    cadence: str
    run_id: str
    tables: tuple[TableConfig, ...]

    def as_output(self) -> BatchOutput:
        return {
            "batch_id": self.batch_id,
            "cadence": self.cadence,
            "run_id": self.run_id,
            "tables": [table.source_table for table in self.tables],
        }


@dataclass(frozen=True, slots=True)
class Plan:
    cadence: str
    run_id: str
    max_concurrency: int
    worker_type: str
    number_of_workers: int
    batches: tuple[PlannedBatch, ...]

    @property
    def table_count(self) -> int:
        return sum(len(batch.tables) for batch in self.batches)

    @property
    def batch_count(self) -> int:
        return len(self.batches)

    def source_tables(self) -> list[str]:
        """Every planned table, in batch order."""
        return [table.source_table for batch in self.batches for table in batch.tables]

    def as_output(self, glue_job_name: str) -> PlanOutput:
        return {
            "cadence": self.cadence,
            "run_id": self.run_id,
            "glue_job_name": glue_job_name,
            "max_concurrency": self.max_concurrency,
            "worker_type": self.worker_type,
            "number_of_workers": self.number_of_workers,
            "table_count": self.table_count,
            "batch_count": self.batch_count,
            "batches": [batch.as_output() for batch in self.batches],
        }


def batch_id(cadence: str, run_id: str, number: int) -> str:
    """Batch ids are "<cadence>-<run_id>-<NNN>", numbered from 001 in plan order."""
    return f"{cadence}-{run_id}-{number:03d}"


def plan_batches(
    batch_config: BatchConfig,
    table_configs: Sequence[TableConfig],
    pending_tables: Collection[str],
    run_id: str,
) -> Plan:
    """The cadence's active tables with pending files, sorted, in chunks of ``batch_size``.

    Tables of another cadence, inactive tables and tables with nothing pending are left out.
    The result depends only on the inputs' contents, not their order. A table configured twice
    for the cadence is a configuration error (the config loader rejects it) and raises.
    """
    cadence = batch_config.cadence
    own = [table for table in table_configs if table.cadence == cadence]
    repeated = sorted(name for name, n in Counter(t.source_table for t in own).items() if n > 1)
    if repeated:
        raise ValueError(f"cadence {cadence!r} configures these tables more than once: {repeated}")
    selected = sorted(
        (table for table in own if table.active and table.source_table in pending_tables),
        key=lambda table: table.source_table,
    )
    size = batch_config.batch_size
    batches = tuple(
        PlannedBatch(
            batch_id=batch_id(cadence, run_id, number),
            cadence=cadence,
            run_id=run_id,
            tables=tuple(selected[start : start + size]),
        )
        for number, start in enumerate(range(0, len(selected), size), start=1)
    )
    return Plan(
        cadence=cadence,
        run_id=run_id,
        max_concurrency=batch_config.max_parallel_batches,
        worker_type=batch_config.worker_type,
        number_of_workers=batch_config.number_of_workers,
        batches=batches,
    )


def output_size(output: PlanOutput) -> int:
    """Bytes of the output as compact JSON (Step Functions counts the UTF-8 encoded payload)."""
    return len(json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode())


class BatchPlanner:
    """Reads the cadence's configuration and the pending tables, and plans the run."""

    def __init__(
        self,
        configs: ConfigSource,
        pending: PendingTablesSource,
        glue_job_name: str,
        max_output_bytes: int = MAX_PLAN_BYTES,
    ) -> None:
        self.configs = configs
        self.pending = pending
        self.glue_job_name = glue_job_name
        self.max_output_bytes = max_output_bytes

    def plan(self, cadence: str, run_id: str) -> Plan:
        batch_config = self.configs.load_batch_config(cadence)
        if batch_config is None:
            raise UnknownCadenceError(
                f"no batch configuration for cadence {cadence!r}: add it to the pipeline "
                f"config (batches[].cadence) and load it, or remove the cadence's schedule"
            )
        tables = self.configs.load_table_configs(cadence)
        # No active table, nothing to look up: the run is empty whatever is pending.
        pending = self.pending.pending_tables() if any(t.active for t in tables) else set()
        return plan_batches(batch_config, tables, pending, run_id)

    def plan_output(self, cadence: str, run_id: str) -> PlanOutput:
        """The plan as the state machine receives it; raises if it cannot pass between states."""
        output = self.plan(cadence, run_id).as_output(self.glue_job_name)
        size = output_size(output)
        if size > self.max_output_bytes:
            raise PlanTooLargeError(
                f"the plan for cadence {cadence!r} is {size:,} bytes ({output['table_count']} "
                f"tables), over the {self.max_output_bytes:,} bytes a plan may take (Step "
                f"Functions passes at most {STATE_PAYLOAD_LIMIT_BYTES:,} bytes between states): "
                f"split the cadence's tables across more cadences"
            )
        if output["batch_count"] > MAX_BATCHES:
            raise PlanTooLargeError(
                f"the plan for cadence {cadence!r} has {output['batch_count']:,} batches, over "
                f"the {MAX_BATCHES} whose results fit the run's summary and its event: raise "
                f"the cadence's batch_size"
            )
        return output
