"""What the fixer does with one catalog change: read each table it names, and when its columns
hold a ``set<T>``, write it back with ``array<T>`` and nothing else changed.

Pure Python: the catalog is a protocol, so the rules are tested with an in-memory fake and the
Glue adapter (catalog.py) stays small. Re-running is harmless: a fixed table has no set left, so
the UpdateTable event the fix itself causes finds nothing to do (no loop), and a redelivered
event does the same; a crawler run that writes the sets back sends a new event, fixed again.
"""

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from catalog_type_fixer.hive_types import array_type
from catalog_type_fixer.models import TABLE_CHANGES, CatalogChangeEvent
from datalake_shared.glue_types import TABLE_INPUT_KEYS

if TYPE_CHECKING:
    from mypy_boto3_glue.type_defs import TableInputTypeDef, TableTypeDef

VIRTUAL_VIEW: Final = "VIRTUAL_VIEW"
ICEBERG: Final = "iceberg"


class TableNotFoundError(LookupError):
    """The table is not in the catalog (deleted since the event)."""


class TableChangedMeanwhileError(RuntimeError):
    """The table changed between GetTable and UpdateTable (a crawler ran): retry from the start."""


class Catalog(Protocol):
    def get_table(self, database: str, name: str) -> "TableTypeDef":
        """The table as GetTable returns it; raises TableNotFoundError."""
        ...

    def update_table(
        self, database: str, table_input: "TableInputTypeDef", version_id: str | None
    ) -> None:
        """UpdateTable, only if the table is still at ``version_id``; raises
        TableChangedMeanwhileError when it is not and TableNotFoundError when it is gone."""
        ...


def fixed_columns(columns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the columns with each type's sets made arrays (name, comment, parameters kept)."""
    fixed = []
    for column in columns:
        copied = copy.deepcopy(dict(column))
        if isinstance(copied.get("Type"), str):
            copied["Type"] = array_type(copied["Type"])
        fixed.append(copied)
    return fixed


def fixed_table_input(table: "TableTypeDef") -> "TableInputTypeDef | None":
    """The TableInput that rewrites ``table`` with ``array<T>`` for ``set<T>`` in its columns'
    types, everything else as GetTable returned it; None when no column changes."""
    descriptor = table.get("StorageDescriptor") or {}
    columns = descriptor.get("Columns") or []
    new_columns = fixed_columns(columns)
    if [column.get("Type") for column in new_columns] == [column.get("Type") for column in columns]:
        return None
    source: Mapping[str, Any] = table
    table_input = {key: copy.deepcopy(source[key]) for key in TABLE_INPUT_KEYS if key in source}
    table_input["StorageDescriptor"]["Columns"] = new_columns
    return cast("TableInputTypeDef", table_input)


def changed_column_names(table: "TableTypeDef", table_input: "TableInputTypeDef") -> list[str]:
    before = (table.get("StorageDescriptor") or {}).get("Columns") or []
    after = (table_input.get("StorageDescriptor") or {}).get("Columns") or []
    pairs = zip(before, after, strict=True)
    return [old["Name"] for old, new in pairs if old.get("Type") != new.get("Type")]


def refusal_reason(table: "TableTypeDef") -> str:
    """Why the fixer must not rewrite the table ("" when it may): Iceberg's schema lives in its
    metadata files, and UpdateTable on the catalog entry alone would set them apart."""
    parameters = table.get("Parameters") or {}
    if parameters.get("table_type", "").lower() == ICEBERG:
        return "an Iceberg table (table_type ICEBERG)"
    if "metadata_location" in parameters:
        return "an open table format table (it has a metadata_location)"
    return ""


def skip_reason(table: "TableTypeDef") -> str:
    """Why the table has no columns to fix ("" when it has)."""
    if table.get("TableType") == VIRTUAL_VIEW:
        return "a view (VIRTUAL_VIEW): its columns come from its query"
    if not (table.get("StorageDescriptor") or {}).get("Columns"):
        return "a table without StorageDescriptor columns"
    return ""


class FixOutcome(StrEnum):
    FIXED = "fixed"
    UNCHANGED = "unchanged"
    """No set in its columns: already fixed (our own UpdateTable event), or never had one."""
    REFUSED = "refused"
    SKIPPED = "skipped"
    """Nothing to look at: another change type, another database, a view, a deleted table."""


def left_alone(table: "TableTypeDef") -> tuple[FixOutcome, str] | None:
    """Refused (Iceberg) or skipped (nothing to fix), and why; None for a table to look at."""
    if reason := refusal_reason(table):
        return FixOutcome.REFUSED, reason
    if reason := skip_reason(table):
        return FixOutcome.SKIPPED, reason
    return None


@dataclass(frozen=True, slots=True)
class FixResult:
    outcome: FixOutcome
    database: str
    table: str
    columns: tuple[str, ...] = ()
    """The columns whose types were rewritten."""
    note: str = ""


class CatalogTypeFixer:
    """Rewrites set<T> as array<T> in the columns of tables of the configured databases."""

    def __init__(self, databases: frozenset[str], catalog: Catalog) -> None:
        self.databases = frozenset(database.lower() for database in databases)
        self.catalog = catalog

    def fix(self, event: CatalogChangeEvent) -> tuple[FixResult, ...]:
        """One result per table the event names, in order. A table that fails raises: the
        whole event is retried, and the tables fixed before it are then unchanged."""
        detail = event.detail
        tables = detail.tables
        if detail.type_of_change not in TABLE_CHANGES:
            note = f"a {detail.type_of_change} change cannot change the table's columns"
        elif detail.database_name.lower() not in self.databases:
            note = "database not in TYPE_FIXER_DATABASES"
        elif not tables:
            return (FixResult(FixOutcome.SKIPPED, detail.database_name, "", note="no table named"),)
        else:
            return tuple(self.fix_table(detail.database_name, table) for table in tables)
        return tuple(
            FixResult(FixOutcome.SKIPPED, detail.database_name, table, note=note)
            for table in tables or ("",)
        )

    def fix_table(self, database: str, name: str) -> FixResult:
        def result(outcome: FixOutcome, note: str = "", columns: Sequence[str] = ()) -> FixResult:
            return FixResult(outcome, database, name, tuple(columns), note)

        try:
            table = self.catalog.get_table(database, name)
        except TableNotFoundError:
            return result(FixOutcome.SKIPPED, "table deleted since the event")
        if verdict := left_alone(table):
            return result(*verdict)
        table_input = fixed_table_input(table)
        if table_input is None:
            return result(FixOutcome.UNCHANGED)
        try:
            self.catalog.update_table(database, table_input, table.get("VersionId"))
        except TableNotFoundError:
            return result(FixOutcome.SKIPPED, "table deleted before it could be updated")
        return result(FixOutcome.FIXED, columns=changed_column_names(table, table_input))
