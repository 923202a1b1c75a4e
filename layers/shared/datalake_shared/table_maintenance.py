"""Iceberg table maintenance: a table's settings (the ``maintenance`` block of its config) and
the Athena statements that apply them.

In a pipeline config, on any merged table (``tables:``) or CDC table::

    maintenance:
      enabled: true               # false: the nightly run leaves the table alone
      compact: true               # OPTIMIZE ... REWRITE DATA USING BIN_PACK before VACUUM
      snapshot_retention_days: 5  # vacuum_max_snapshot_age_seconds (Athena's default: 5 days)
      min_snapshots_to_keep: 1    # vacuum_min_snapshots_to_keep (Athena's default: 1)
      interval_days: 1            # maintained when the last success is this old or older

Leaving the block out keeps Athena's defaults, maintained every night. A due table gets, in
order: ``ALTER TABLE ... SET TBLPROPERTIES`` (the retention, free: DDL), ``OPTIMIZE`` (if
``compact``) and ``VACUUM``, which expires snapshots older than the retention (keeping at least
``min_snapshots_to_keep``) and removes orphan files older than the same age
(docs/decisions/0029-iceberg-maintenance-on-athena.md).

Names reach the SQL only through datalake_shared.athena_names: ALTER TABLE and VACUUM take a bare
plain name (Hive's grammar; VACUUM refuses double quotes), OPTIMIZE a double-quoted one. A name
that cannot be written bare raises ``UnsafeIdentifierError``: the table is refused, not quoted
some other way.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from datalake_shared.athena_names import UnsafeIdentifierError, ddl_name, quote_identifier

# Athena's Iceberg table properties read by VACUUM (Athena documents both defaults).
MAX_SNAPSHOT_AGE_PROPERTY: Final = "vacuum_max_snapshot_age_seconds"
MIN_SNAPSHOTS_PROPERTY: Final = "vacuum_min_snapshots_to_keep"
DEFAULT_RETENTION_DAYS: Final = 5  # 432,000 seconds, Athena's default
DEFAULT_MIN_SNAPSHOTS: Final = 1
DEFAULT_INTERVAL_DAYS: Final = 1
SECONDS_PER_DAY: Final = 86_400
# Ten years: a longer retention keeps every snapshot, which ``enabled: false`` says better.
MAX_RETENTION_DAYS: Final = 3_650
MAX_INTERVAL_DAYS: Final = 365
# A run is planned a little after the schedule's minute on one night and a little before it on
# the next (the schedule's flexible window, retries): "due" tolerates that much, so a daily
# table is not skipped every other night.
DUE_TOLERANCE: Final = timedelta(hours=1)

# The maintenance log (TableMaintenanceTable): one item per table, written by the state machine
# after the table's VACUUM succeeded ({table_key, last_maintained_at, execution}), read by the
# planner. last_maintained_at is when the run was planned (the plan's planned_at, ISO 8601 UTC).
LOG_KEY_ATTRIBUTE: Final = "table_key"
LOG_TIME_ATTRIBUTE: Final = "last_maintained_at"
LOG_EXECUTION_ATTRIBUTE: Final = "execution"


class TableMaintenance(BaseModel):
    """How the nightly maintenance run treats one Iceberg table."""

    # As strict as the rest of a config file: "5" is not 5, an unknown key is a typo.
    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    enabled: bool = True
    compact: bool = True
    snapshot_retention_days: int = Field(
        default=DEFAULT_RETENTION_DAYS,
        ge=1,
        le=MAX_RETENTION_DAYS,
        description="snapshots (and orphan files) older than this are removed by VACUUM",
    )
    min_snapshots_to_keep: int = Field(default=DEFAULT_MIN_SNAPSHOTS, ge=1, le=10_000)
    interval_days: int = Field(
        default=DEFAULT_INTERVAL_DAYS,
        ge=1,
        le=MAX_INTERVAL_DAYS,
        description="days between two maintenances of the table",
    )

    @property
    def max_snapshot_age_seconds(self) -> int:
        return self.snapshot_retention_days * SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class MaintenanceStatements:
    """The Athena statements of one table's maintenance, in the order they run."""

    retention: str
    optimize: str | None
    vacuum: str


def table_key(database: str, table: str) -> str:
    """How the maintenance log names a table: ``<database>.<table>`` (neither holds a dot)."""
    return f"{database}.{table}"


def maintenance_statements(
    database: str, table: str, maintenance: TableMaintenance
) -> MaintenanceStatements:
    """The table's statements; raises ``UnsafeIdentifierError`` for a name that cannot be
    written bare (VACUUM also refuses a leading underscore without backticks)."""
    bare = f"{ddl_name(database)}.{ddl_name(table)}"
    if table.startswith("_") or database.startswith("_"):
        raise UnsafeIdentifierError(
            f"{bare!r}: VACUUM needs backticks around a name starting with '_'; rename the table"
        )
    retention = (
        f"ALTER TABLE {bare} SET TBLPROPERTIES ("
        f"'{MAX_SNAPSHOT_AGE_PROPERTY}'='{maintenance.max_snapshot_age_seconds:d}', "
        f"'{MIN_SNAPSHOTS_PROPERTY}'='{maintenance.min_snapshots_to_keep:d}')"
    )
    optimize = (
        f"OPTIMIZE {quote_identifier(database)}.{quote_identifier(table)} "
        "REWRITE DATA USING BIN_PACK"
        if maintenance.compact
        else None
    )
    return MaintenanceStatements(retention=retention, optimize=optimize, vacuum=f"VACUUM {bare}")


def is_due(maintenance: TableMaintenance, last_maintained: datetime | None, now: datetime) -> bool:
    """Enabled, and never maintained or last maintained ``interval_days`` ago (give or take
    ``DUE_TOLERANCE``)."""
    if not maintenance.enabled:
        return False
    if last_maintained is None:
        return True
    interval = timedelta(days=maintenance.interval_days)
    return now - last_maintained >= interval - DUE_TOLERANCE
