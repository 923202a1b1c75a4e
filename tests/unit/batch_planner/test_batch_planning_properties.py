"""Properties of plan_batches over any configuration, pending files and batch size."""

import math
from dataclasses import dataclass

from batch_planner_fakes import batch_config, table_config
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_planner.service import Plan, plan_batches
from datalake_shared.pipeline_config import BatchConfig, TableConfig

CADENCE = "hourly"
RUN = "hourly-2026-11-23T10-00-00Z"
NAMES = st.from_regex(r"[A-Za-z0-9_$-]{1,6}\.[A-Za-z0-9_$-]{1,6}", fullmatch=True)


@dataclass(frozen=True)
class Scenario:
    batch: BatchConfig
    tables: list[TableConfig]
    pending: set[str]

    def expected(self) -> set[str]:
        """Active tables of the cadence with at least one pending file."""
        return {
            table.source_table
            for table in self.tables
            if table.active and table.cadence == CADENCE and table.source_table in self.pending
        }

    def plan(self) -> Plan:
        return plan_batches(self.batch, self.tables, self.pending, RUN)


@st.composite
def scenarios(draw: st.DrawFn, max_tables: int = 30) -> Scenario:
    """Tables of this and another cadence, active or not, with files pending or not, plus
    pending files of tables nobody configured."""
    names = draw(st.lists(NAMES, unique=True, max_size=max_tables))
    tables, pending = [], set()
    for name in names:
        cadence = draw(st.sampled_from([CADENCE, CADENCE, "daily"]))
        tables.append(table_config(name, cadence=cadence, active=draw(st.booleans())))
        if draw(st.booleans()):
            pending.add(name)
    pending |= draw(st.sets(NAMES, max_size=5))
    size = draw(st.one_of(st.integers(1, 8), st.integers(1, 200)))
    return Scenario(batch_config(CADENCE, batch_size=size), tables, pending)


def planned(plan: Plan) -> list[str]:
    return plan.source_tables()


@given(scenarios())
def test_every_pending_active_table_is_in_exactly_one_batch(scenario: Scenario) -> None:
    # Given any scenario / When planned
    tables = planned(scenario.plan())
    # Then the planned tables are exactly the pending active ones of the cadence, each once
    assert sorted(tables) == sorted(scenario.expected())
    assert len(tables) == len(set(tables))


@given(scenarios())
def test_batches_are_full_but_the_last_and_never_exceed_batch_size(scenario: Scenario) -> None:
    # Given any scenario / When planned
    plan = scenario.plan()
    sizes = [len(batch.tables) for batch in plan.batches]
    size = scenario.batch.batch_size
    # Then no batch is empty or too big, and no more batches are used than needed
    assert all(1 <= n <= size for n in sizes)
    assert len(sizes) == math.ceil(len(scenario.expected()) / size)
    assert plan.table_count == sum(sizes)
    assert plan.batch_count == len(sizes)


@given(scenarios())
def test_inactive_unpending_and_foreign_tables_never_appear(scenario: Scenario) -> None:
    # Given any scenario / When planned
    tables = set(planned(scenario.plan()))
    # Then no paused table, table without files, or table of another cadence is in it
    by_name = {table.source_table: table for table in scenario.tables}
    assert all(by_name[name].active for name in tables)
    assert all(by_name[name].cadence == CADENCE for name in tables)
    assert tables <= scenario.pending


@given(scenarios())
def test_tables_are_planned_in_source_table_order(scenario: Scenario) -> None:
    # Given any scenario / When planned / Then batches concatenated are sorted by source table
    tables = planned(scenario.plan())
    assert tables == sorted(tables)


@settings(max_examples=50)
@given(scenarios(), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_same_plan(scenario: Scenario, rng: object) -> None:
    # Given the scenario's tables and pending files listed in another order
    assert hasattr(rng, "sample")
    shuffled_tables = rng.sample(scenario.tables, len(scenario.tables))
    shuffled_pending = rng.sample(sorted(scenario.pending), len(scenario.pending))
    # When planned both ways, twice / Then the outputs are identical
    first = scenario.plan().as_output("job")
    again = scenario.plan().as_output("job")
    reordered = plan_batches(scenario.batch, shuffled_tables, set(shuffled_pending), RUN)
    assert first == again == reordered.as_output("job")


@given(scenarios())
def test_nothing_pending_always_gives_an_empty_plan(scenario: Scenario) -> None:
    # Given any configuration and no pending file / When planned
    plan = plan_batches(scenario.batch, scenario.tables, set(), RUN)
    # Then there are no batches
    assert plan.batches == ()
    assert plan.as_output("job")["batches"] == []
