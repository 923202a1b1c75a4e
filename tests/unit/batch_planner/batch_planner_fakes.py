"""In-memory stand-ins for the batch planner's collaborators, config builders and event loading."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from lambda_support import load_handler_module, load_sample_event

from batch_planner.service import BatchPlanner
from datalake_shared.pipeline_config import BatchConfig, TableConfig

GLUE_JOB = "datalake-cdc-merge-test"


app = load_handler_module("batch_planner")
load_event = partial(load_sample_event, "batch_planner")


def batch_config(
    cadence: str = "hourly",
    *,
    batch_size: int = 2,
    max_parallel_batches: int = 3,
    worker_type: str = "G.2X",
    number_of_workers: int = 4,
) -> BatchConfig:
    return BatchConfig.model_validate(
        {
            "cadence": cadence,
            "batch_size": batch_size,
            "max_parallel_batches": max_parallel_batches,
            "worker_type": worker_type,
            "number_of_workers": number_of_workers,
        }
    )


def table_config(source_table: str, *, cadence: str = "hourly", active: bool = True) -> TableConfig:
    """A valid table config for ``source_table`` ("<schema>.<table>")."""
    return TableConfig.model_validate(
        {
            "cadence": cadence,
            "source_table": source_table,
            "target_database": "lake",
            "target_table": re.sub(r"[^a-z0-9_]", "_", source_table.lower()),
            "columns": [
                {"name": "order_id", "type": "bigint"},
                {"name": "amount", "type": "decimal(10,2)"},
            ],
            "primary_key": ["order_id"],
            "sequence_column": "change_ts",
            "active": active,
        }
    )


def tables(*source_tables: str, cadence: str = "hourly") -> list[TableConfig]:
    return [table_config(name, cadence=cadence) for name in source_tables]


@dataclass
class FakeConfigSource:
    """The config tables over dicts; ``None`` for a cadence without a batch config."""

    batches: dict[str, BatchConfig] = field(default_factory=dict)
    tables: list[TableConfig] = field(default_factory=list)
    table_loads: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, batch: BatchConfig, table_configs: Iterable[TableConfig]) -> "FakeConfigSource":
        return cls(batches={batch.cadence: batch}, tables=list(table_configs))

    def load_batch_config(self, cadence: str) -> BatchConfig | None:
        return self.batches.get(cadence)

    def load_table_configs(self, cadence: str) -> Sequence[TableConfig]:
        self.table_loads.append(cadence)
        return [table for table in self.tables if table.cadence == cadence]


@dataclass
class FakePendingTables:
    """The pending-files index reduced to its answer; ``calls`` counts the lookups."""

    tables: set[str] = field(default_factory=set)
    calls: int = 0

    def pending_tables(self) -> set[str]:
        self.calls += 1
        return set(self.tables)


def planner_with(
    configs: FakeConfigSource, pending: FakePendingTables, **options: Any
) -> BatchPlanner:
    return BatchPlanner(configs, pending, glue_job_name=GLUE_JOB, **options)
