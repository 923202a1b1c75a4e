"""The maintenance planner: which tables are due, and the statements each one gets."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch_planner.maintenance_plan import (
    MaintainedTable,
    MaintenanceState,
    plan_maintenance,
)
from datalake_shared.athena_names import UnsafeIdentifierError
from datalake_shared.table_maintenance import TableMaintenance, is_due, maintenance_statements
from tests.hostile_values import HOSTILE

NOW = datetime(2026, 11, 24, 3, 30, tzinfo=UTC)


def table(
    name: str, database: str = "sales", origin: str = "merge", **settings: object
) -> MaintainedTable:
    return MaintainedTable(database, name, TableMaintenance.model_validate(settings), origin)


def plan(
    tables: list[MaintainedTable],
    last: dict[str, datetime] | None = None,
    existing: set[str] | None = None,
    max_tables: int = 200,
) -> dict[str, object]:
    state = MaintenanceState(
        existing=existing if existing is not None else {t.key for t in tables},
        last_maintained=last or {},
    )
    return dict(plan_maintenance(tables, state, NOW, "run-1", max_tables))


def planned_keys(output: dict[str, object]) -> list[str]:
    return [entry["key"] for entry in output["tables"]]  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ due


def test_a_table_never_maintained_is_due() -> None:
    # Given a table with no log entry / When planned / Then it is in the run
    assert planned_keys(plan([table("orders")])) == ["sales.orders"]


@pytest.mark.parametrize(
    ("interval_days", "age", "due"),
    [
        (1, timedelta(hours=23, minutes=30), True),  # the schedule's minute drifts: tolerated
        (1, timedelta(hours=20), False),
        (7, timedelta(days=6, hours=23, minutes=1), True),
        (7, timedelta(days=5), False),
    ],
)
def test_a_table_is_due_once_its_interval_has_passed(
    interval_days: int, age: timedelta, due: bool
) -> None:
    # Given a table maintained ``age`` ago, every ``interval_days``
    settings = TableMaintenance(interval_days=interval_days)
    # When asked whether it is due / Then it is exactly when the interval (less 1 h) has passed
    assert is_due(settings, NOW - age, NOW) is due


def test_a_disabled_table_is_never_due() -> None:
    # Given maintenance disabled on a never-maintained table / When planned / Then it is left out
    output = plan([table("orders", enabled=False)])
    assert planned_keys(output) == []
    assert output["not_due"] == 1


def test_a_table_not_created_yet_is_skipped() -> None:
    # Given a configured table the catalog does not hold yet (no merge so far)
    output = plan([table("orders"), table("customers")], existing={"sales.customers"})
    # Then only the existing one is planned, and the other is counted as not created
    assert planned_keys(output) == ["sales.customers"]
    assert output["not_created"] == 1


def test_never_maintained_tables_come_first_then_the_longest_waiting() -> None:
    # Given three due tables: two maintained (2 and 9 days ago), one never
    tables = [table("a"), table("b"), table("c")]
    last = {"sales.a": NOW - timedelta(days=2), "sales.c": NOW - timedelta(days=9)}
    # When planned with room for two / Then the never-maintained and the oldest go, one waits
    output = plan(tables, last, max_tables=2)
    assert planned_keys(output) == ["sales.b", "sales.c"]
    assert output["deferred"] == 1


def test_a_table_declared_twice_keeps_its_first_declaration() -> None:
    # Given the CDC table configured (no compaction) and named by the template too
    configured = table("orders", database="lake", origin="cdc", compact=False)
    template = table("orders", database="lake", origin="template")
    # When planned / Then it is planned once, with the config's settings
    [entry] = plan([configured, template])["tables"]  # type: ignore[misc]
    assert (entry["key"], entry["compact"], entry["optimize_sql"]) == ("lake.orders", False, "")


def test_the_plan_carries_when_it_was_planned() -> None:
    # Given any table / When planned / Then the plan says when (the log records it per table)
    assert plan([table("orders")])["planned_at"] == NOW.isoformat()


# ------------------------------------------------------------------------------ statements


def test_settings_become_the_tables_statements() -> None:
    # Given a table keeping 3 days and 2 snapshots, compacted
    settings = TableMaintenance(snapshot_retention_days=3, min_snapshots_to_keep=2)
    # When its statements are built
    statements = maintenance_statements("sales", "orders", settings)
    # Then the retention is in seconds, and OPTIMIZE precedes VACUUM
    assert statements.retention == (
        "ALTER TABLE sales.orders SET TBLPROPERTIES ("
        "'vacuum_max_snapshot_age_seconds'='259200', 'vacuum_min_snapshots_to_keep'='2')"
    )
    assert statements.optimize == 'OPTIMIZE "sales"."orders" REWRITE DATA USING BIN_PACK'
    assert statements.vacuum == "VACUUM sales.orders"


def test_the_defaults_are_athenas() -> None:
    # Given no maintenance block / Then the table keeps Athena's own defaults, nightly
    settings = TableMaintenance()
    assert (settings.max_snapshot_age_seconds, settings.min_snapshots_to_keep) == (432_000, 1)
    assert (settings.enabled, settings.compact, settings.interval_days) == (True, True, 1)


def test_a_table_not_compacted_gets_no_optimize() -> None:
    statements = maintenance_statements("sales", "orders", TableMaintenance(compact=False))
    assert statements.optimize is None


@pytest.mark.parametrize(
    "settings",
    [
        {"snapshot_retention_days": 0},
        {"snapshot_retention_days": "5"},
        {"min_snapshots_to_keep": 0},
        {"interval_days": 366},
        {"retention": 5},
    ],
)
def test_invalid_settings_are_refused(settings: dict[str, object]) -> None:
    # Given an out-of-range value, a string for a number, or an unknown key / Then it is refused
    with pytest.raises(ValueError, match="TableMaintenance"):
        TableMaintenance.model_validate(settings)


@pytest.mark.parametrize("name", ["order", "select", "_staging", "Orders", "a-b", "x.y"])
def test_a_name_that_cannot_be_written_bare_is_refused(name: str) -> None:
    # Given a reserved, underscore-led, upper-case or punctuated table name
    # When its statements are built / Then it is refused, never quoted some other way
    with pytest.raises(UnsafeIdentifierError):
        maintenance_statements("sales", name, TableMaintenance())


def test_a_refused_table_is_listed_and_the_others_still_planned() -> None:
    # Given a template table named with a reserved word beside a good one
    output = plan([table("order", database="lake"), table("orders", database="lake")])
    # Then the good one is planned and the other listed with its reason
    assert planned_keys(output) == ["lake.orders"]
    assert output["refused_count"] == 1
    [refused] = output["refused"]  # type: ignore[misc]
    assert refused["key"] == "lake.order"
    assert "order" in refused["reason"]


_ANY_NAME = st.text(min_size=1, max_size=30)


@given(database=_ANY_NAME, name=_ANY_NAME)
def test_any_name_is_refused_or_written_exactly(database: str, name: str) -> None:
    """Hostile names (quotes, comments, semicolons, unicode) never reach the SQL: a statement is
    built only from plain names, which appear verbatim; anything else is refused."""
    try:
        statements = maintenance_statements(database, name, TableMaintenance())
    except UnsafeIdentifierError:
        return
    assert statements.vacuum == f"VACUUM {database}.{name}"
    assert statements.retention.startswith(f"ALTER TABLE {database}.{name} SET TBLPROPERTIES (")
    assert statements.optimize == f'OPTIMIZE "{database}"."{name}" REWRITE DATA USING BIN_PACK'
    for text in (statements.retention, statements.vacuum, statements.optimize):
        assert not any(marker in text for marker in (";", "--", "/*", "`", "\n"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_hostile_value_is_refused_as_a_name(hostile: str) -> None:
    # Given a text written to break SQL, as a table name and inside one
    for name in (hostile, f"orders{hostile}"):
        # When statements are built / Then the table is refused
        with pytest.raises(UnsafeIdentifierError):
            maintenance_statements("sales", name, TableMaintenance())
