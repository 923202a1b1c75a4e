"""plan_batches and BatchPlanner: which tables a run merges, and in which batches."""

import json

import pytest
from batch_planner_fakes import (
    GLUE_JOB,
    FakeConfigSource,
    FakePendingTables,
    batch_config,
    planner_with,
    table_config,
    tables,
)

from batch_planner.service import (
    MAX_BATCHES,
    MAX_PLAN_BYTES,
    PlanTooLargeError,
    UnknownCadenceError,
    output_size,
    plan_batches,
)

RUN = "hourly-2026-11-23T10-00-00Z"


def test_pending_active_tables_are_sorted_and_cut_into_batches_of_batch_size() -> None:
    # Given five pending tables, listed out of order, and batches of two
    configs = tables("sales.orders", "crm.customers", "hr.staff", "sales.items", "crm.leads")
    pending = {config.source_table for config in configs}
    # When the run is planned
    plan = plan_batches(batch_config(batch_size=2), configs, pending, RUN)
    # Then the tables come sorted, two per batch, the last batch holding the rest
    assert [[t.source_table for t in batch.tables] for batch in plan.batches] == [
        ["crm.customers", "crm.leads"],
        ["hr.staff", "sales.items"],
        ["sales.orders"],
    ]


def test_batches_are_numbered_from_one_with_cadence_and_run_id() -> None:
    # Given three pending tables in batches of one
    configs = tables("a.x", "b.x", "c.x")
    # When planned
    plan = plan_batches(batch_config(batch_size=1), configs, {"a.x", "b.x", "c.x"}, RUN)
    # Then each batch id is "<cadence>-<run_id>-<NNN>" and carries cadence and run id
    assert [batch.batch_id for batch in plan.batches] == [
        f"hourly-{RUN}-001",
        f"hourly-{RUN}-002",
        f"hourly-{RUN}-003",
    ]
    assert {(batch.cadence, batch.run_id) for batch in plan.batches} == {("hourly", RUN)}


def test_tables_without_pending_files_are_left_out() -> None:
    # Given two tables of which only one has pending files
    configs = tables("sales.orders", "sales.items")
    # When planned
    plan = plan_batches(batch_config(), configs, {"sales.items"}, RUN)
    # Then only that one is planned
    assert plan.source_tables() == ["sales.items"]


def test_inactive_tables_are_left_out_even_with_pending_files() -> None:
    # Given a paused table with pending files next to an active one
    configs = [table_config("sales.orders", active=False), table_config("sales.items")]
    # When planned
    plan = plan_batches(batch_config(), configs, {"sales.orders", "sales.items"}, RUN)
    # Then the paused table is not merged
    assert plan.source_tables() == ["sales.items"]


def test_tables_of_another_cadence_are_left_out() -> None:
    # Given a daily table handed to the hourly plan
    configs = [table_config("sales.orders", cadence="daily"), table_config("sales.items")]
    # When the hourly run is planned
    plan = plan_batches(batch_config("hourly"), configs, {"sales.orders", "sales.items"}, RUN)
    # Then only the hourly table is planned
    assert plan.source_tables() == ["sales.items"]


def test_nothing_pending_gives_an_empty_plan() -> None:
    # Given configured tables but no pending files
    # When planned
    plan = plan_batches(batch_config(), tables("sales.orders"), set(), RUN)
    # Then there is no batch, so the Map runs zero times
    assert plan.batches == ()
    assert (plan.table_count, plan.batch_count) == (0, 0)


def test_a_table_configured_twice_for_the_cadence_is_rejected() -> None:
    # Given the same source table twice
    configs = tables("sales.orders", "sales.orders")
    # When planned / Then the error names it
    with pytest.raises(ValueError, match=r"more than once: \['sales.orders'\]"):
        plan_batches(batch_config(), configs, {"sales.orders"}, RUN)


def test_output_has_the_state_machine_contract() -> None:
    # Given a cadence with G.2X x 4 workers, 3 runs at once, and two pending tables
    configs = tables("sales.orders", "crm.customers")
    plan = plan_batches(
        batch_config(batch_size=5, max_parallel_batches=3, worker_type="G.2X", number_of_workers=4),
        configs,
        {"sales.orders", "crm.customers"},
        RUN,
    )
    # When rendered for the state machine
    output = plan.as_output(GLUE_JOB)
    # Then it carries the job, its sizing and one batch naming the tables
    assert output == {
        "cadence": "hourly",
        "run_id": RUN,
        "glue_job_name": GLUE_JOB,
        "max_concurrency": 3,
        "worker_type": "G.2X",
        "number_of_workers": 4,
        "table_count": 2,
        "batch_count": 1,
        "batches": [
            {
                "batch_id": f"hourly-{RUN}-001",
                "cadence": "hourly",
                "run_id": RUN,
                "tables": ["crm.customers", "sales.orders"],
            }
        ],
    }


def test_unknown_cadence_fails_before_reading_anything_else() -> None:
    # Given no batch config for "weekly"
    configs = FakeConfigSource.of(batch_config("hourly"), tables("sales.orders"))
    pending = FakePendingTables({"sales.orders"})
    # When a weekly run is planned / Then it fails naming the cadence, without querying
    with pytest.raises(UnknownCadenceError, match="'weekly'"):
        planner_with(configs, pending).plan("weekly", RUN)
    assert (configs.table_loads, pending.calls) == ([], 0)


def test_planner_queries_pending_files_once() -> None:
    # Given a cadence with two active tables, one pending
    configs = FakeConfigSource.of(batch_config(), tables("sales.orders", "sales.items"))
    pending = FakePendingTables({"sales.items", "other.table"})
    # When planned
    plan = planner_with(configs, pending).plan("hourly", RUN)
    # Then one lookup found the pending table of the cadence
    assert plan.source_tables() == ["sales.items"]
    assert pending.calls == 1


def test_planner_skips_the_lookup_when_no_table_is_active() -> None:
    # Given a cadence whose only table is paused
    configs = FakeConfigSource.of(batch_config(), [table_config("sales.orders", active=False)])
    pending = FakePendingTables({"sales.orders"})
    # When planned
    plan = planner_with(configs, pending).plan("hourly", RUN)
    # Then the plan is empty and the index was not read
    assert plan.batches == ()
    assert pending.calls == 0


def test_plan_output_names_the_glue_job() -> None:
    # Given a planner for job GLUE_JOB
    configs = FakeConfigSource.of(batch_config(), tables("sales.orders"))
    planner = planner_with(configs, FakePendingTables({"sales.orders"}))
    # When the output is built / Then it names the job
    assert planner.plan_output("hourly", RUN)["glue_job_name"] == GLUE_JOB


def test_plan_larger_than_a_state_payload_is_refused() -> None:
    # Given 1,000 pending tables and a planner allowed 10,000 bytes of output
    names = [f"s.t{n:04d}" for n in range(1000)]
    configs = FakeConfigSource.of(batch_config(batch_size=50), tables(*names))
    planner = planner_with(configs, FakePendingTables(set(names)), max_output_bytes=10_000)
    assert output_size(planner.plan("hourly", RUN).as_output(GLUE_JOB)) > 10_000
    # When the output is built / Then it fails with the size and the limit, not later in the Map
    with pytest.raises(PlanTooLargeError, match=r"1000 tables.*10,000 bytes.*262,144 bytes"):
        planner.plan_output("hourly", RUN)


def test_a_plan_of_3000_tables_fits_between_states() -> None:
    # Given the post's scale: 3,000 pending tables in one cadence
    names = [f"schema_{n % 40:02d}.table_{n:05d}" for n in range(3000)]
    configs = FakeConfigSource.of(batch_config(batch_size=25), tables(*names))
    planner = planner_with(configs, FakePendingTables(set(names)))
    # When planned / Then the output passes between states (batches name their tables)
    assert output_size(planner.plan_output("hourly", RUN)) < MAX_PLAN_BYTES


def test_output_size_counts_utf8_bytes_of_compact_json() -> None:
    # Given a one-table plan / Then its size is that of its compact JSON
    plan = plan_batches(batch_config(), tables("sales.orders"), {"sales.orders"}, RUN)
    output = plan.as_output("jöb")
    assert output_size(output) == len(
        json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode()
    )


def test_a_plan_with_more_batches_than_the_summary_can_hold_is_refused() -> None:
    # Given 501 pending tables in batches of one
    names = [f"s.t{n:04d}" for n in range(501)]
    configs = FakeConfigSource.of(batch_config(batch_size=1), tables(*names))
    planner = planner_with(configs, FakePendingTables(set(names)))
    # When the output is built / Then it fails naming the count and the remedy
    with pytest.raises(PlanTooLargeError, match=r"501 batches.*raise the cadence's batch_size"):
        planner.plan_output("hourly", RUN)


def test_a_plan_of_exactly_max_batches_is_accepted() -> None:
    # Given 500 pending tables in batches of one: exactly MAX_BATCHES batches
    names = [f"s.t{n:04d}" for n in range(MAX_BATCHES)]
    configs = FakeConfigSource.of(batch_config(batch_size=1), tables(*names))
    planner = planner_with(configs, FakePendingTables(set(names)))
    # When the output is built
    output = planner.plan_output("hourly", RUN)
    # Then the limit itself is allowed: every batch is handed to the state machine
    assert output["batch_count"] == MAX_BATCHES
    assert len(output["batches"]) == MAX_BATCHES


def test_a_plan_of_exactly_max_output_bytes_is_accepted() -> None:
    # Given a planner whose byte limit is exactly the size of its plan's output
    configs = FakeConfigSource.of(batch_config(), tables("sales.orders", "crm.leads"))
    pending = FakePendingTables({"sales.orders", "crm.leads"})
    exact = output_size(planner_with(configs, pending).plan("hourly", RUN).as_output(GLUE_JOB))
    planner = planner_with(configs, pending, max_output_bytes=exact)
    # When the output is built
    output = planner.plan_output("hourly", RUN)
    # Then the limit itself is allowed: the plan is returned whole
    assert output_size(output) == exact
    assert output["table_count"] == 2
