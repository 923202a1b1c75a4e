"""Plans one nightly maintenance run: which Iceberg tables are due, and each one's statements.

Pure logic: the tables come in through ``MaintainedTables`` (the merged tables of every cadence
and the CDC tables; the template's own come with the request), the last successes through
``MaintenanceLog``; both are small protocols, so the rules below are tested without AWS. A
table is due when its ``maintenance`` is enabled and its last success is ``interval_days`` old
(datalake_shared.table_maintenance.is_due). The state machine runs each due table's statements
with Athena and records its success in the log (statemachines/iceberg_maintenance.asl.json).

The SQL is built here, never in the state machine from its input: each name goes through
datalake_shared.athena_names, and a table whose name cannot be written safely is refused (it
is listed, and the run fails at its end) rather than quoted some other way.
"""

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol, TypedDict

from batch_planner.service import MAX_PLAN_BYTES, STATE_PAYLOAD_LIMIT_BYTES, PlanTooLargeError
from datalake_shared.athena_names import UnsafeIdentifierError
from datalake_shared.table_maintenance import (
    TableMaintenance,
    is_due,
    maintenance_statements,
    table_key,
)

# Due tables per run, most overdue first; the rest stay due and go the next night. Keeps the
# plan (about 400 bytes a table) and the run's summary event (256 KB) well inside their limits.
MAX_TABLES_PER_RUN: Final = 200


@dataclass(frozen=True, slots=True)
class MaintainedTable:
    """An Iceberg table the stack writes, with its maintenance settings."""

    database: str
    table: str
    maintenance: TableMaintenance
    origin: str  # "merge" | "cdc" | "template": where the table is declared

    @property
    def key(self) -> str:
        return table_key(self.database, self.table)


class MaintainedTables(Protocol):
    def maintained_tables(self) -> Sequence[MaintainedTable]:
        """Every active table the configs declare (merged and CDC), whatever its settings."""
        ...


class TableCatalog(Protocol):
    def existing_tables(self, databases: Collection[str]) -> set[str]:
        """The tables (by ``table_key``) the catalog holds in these databases."""
        ...


class MaintenanceLog(Protocol):
    def last_maintained(self, keys: Collection[str]) -> Mapping[str, datetime]:
        """When each table (by ``table_key``) was last maintained successfully; absent: never."""
        ...


class PlannedTableOutput(TypedDict):
    key: str
    database: str
    table: str
    compact: bool
    retention_sql: str
    optimize_sql: str  # "" when the table is not compacted
    vacuum_sql: str


class RefusedTableOutput(TypedDict):
    key: str
    reason: str


class MaintenancePlanOutput(TypedDict):
    """What the planner task hands the maintenance state machine (its Map iterates ``tables``)."""

    run_id: str
    # ISO 8601 (UTC): the state machine logs it as each maintained table's last_maintained_at.
    planned_at: str
    table_count: int
    tables: list[PlannedTableOutput]
    refused: list[RefusedTableOutput]
    refused_count: int
    not_due: int
    # Configured, but not created yet (a merge table before its first merge): skipped.
    not_created: int
    deferred: int  # due, but over MAX_TABLES_PER_RUN: planned on a following night


def _distinct(tables: Sequence[MaintainedTable]) -> list[MaintainedTable]:
    """One entry per table: the first declaration wins (configs are listed before the
    template's tables, so a configured table keeps its settings)."""
    seen: dict[str, MaintainedTable] = {}
    for table in tables:
        seen.setdefault(table.key, table)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class MaintenanceState:
    """What the planner reads besides the tables: which exist, and when each was maintained."""

    existing: Collection[str]
    last_maintained: Mapping[str, datetime]


def plan_maintenance(
    tables: Sequence[MaintainedTable],
    state: MaintenanceState,
    now: datetime,
    run_id: str,
    max_tables: int = MAX_TABLES_PER_RUN,
) -> MaintenancePlanOutput:
    """The due tables that exist (never-maintained, then the longest-waiting first, then by
    name), each with its statements; tables with unsafe names are refused."""
    last_maintained = state.last_maintained
    distinct = _distinct(tables)
    created = [table for table in distinct if table.key in state.existing]
    due = [
        table for table in created if is_due(table.maintenance, last_maintained.get(table.key), now)
    ]
    due.sort(key=lambda t: (t.key in last_maintained, last_maintained.get(t.key, now), t.key))
    planned: list[PlannedTableOutput] = []
    refused: list[RefusedTableOutput] = []
    for table in due[:max_tables]:
        try:
            statements = maintenance_statements(table.database, table.table, table.maintenance)
        except UnsafeIdentifierError as error:
            refused.append({"key": table.key, "reason": str(error)})
            continue
        planned.append(
            {
                "key": table.key,
                "database": table.database,
                "table": table.table,
                "compact": statements.optimize is not None,
                "retention_sql": statements.retention,
                "optimize_sql": statements.optimize or "",
                "vacuum_sql": statements.vacuum,
            }
        )
    return {
        "run_id": run_id,
        "planned_at": now.isoformat(),
        "table_count": len(planned),
        "tables": planned,
        "refused": refused,
        "refused_count": len(refused),
        "not_due": len(created) - len(due),
        "not_created": len(distinct) - len(created),
        "deferred": max(0, len(due) - max_tables),
    }


class MaintenancePlanner:
    """Reads the tables, the catalog and the log, and plans the run."""

    def __init__(
        self,
        tables: MaintainedTables,
        catalog: TableCatalog,
        log: MaintenanceLog,
        max_output_bytes: int = MAX_PLAN_BYTES,
    ) -> None:
        self.tables = tables
        self.catalog = catalog
        self.log = log
        self.max_output_bytes = max_output_bytes

    def plan_output(
        self, now: datetime, run_id: str, template_tables: Sequence[MaintainedTable] = ()
    ) -> MaintenancePlanOutput:
        """``template_tables`` come last: a table a config declares keeps its settings."""
        tables = [*self.tables.maintained_tables(), *template_tables]
        state = MaintenanceState(
            existing=self.catalog.existing_tables({table.database for table in tables}),
            last_maintained=self.log.last_maintained({table.key for table in tables}),
        )
        output = plan_maintenance(tables, state, now, run_id)
        size = len(json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode())
        if size > self.max_output_bytes:
            raise PlanTooLargeError(
                f"the maintenance plan is {size:,} bytes ({output['table_count']} tables), over "
                f"the {self.max_output_bytes:,} a plan may take (Step Functions passes at most "
                f"{STATE_PAYLOAD_LIMIT_BYTES:,} bytes between states)"
            )
        return output
