"""Which Iceberg table a batch goes to: one function serves every configured DynamoDB table.

A record's table is in its ``eventSourceARN`` (``...:table/<name>/stream/<label>``), and every
batch Lambda delivers comes from one mapping, so from one table. The table's ``cdc_tables``
entry (datalake_shared.cdc_tables; read from CdcTableConfigTable, cached ``max_age`` seconds per
table) names the target table, its key, TTL and unknown-attribute policies and its columns.

- The stack's own source stream (STACK_SOURCE_STREAM_ARN, the template's mapping) uses the entry
  ``stack:source`` or one naming its table, else the environment's settings (TARGET_TABLE,
  KEY_COLUMNS...: the defaults the template's parameters set).
- A table with no active entry is an error (``UnknownSourceError``): its records are reported
  failed, so Lambda retries them and, retries spent, hands them to CdcFailuresQueue, never
  dropped. An entry made inactive has its mapping removed by the config loader; records still
  in flight meet the same fate.
- A target table that does not exist yet is created from the entry's columns on first use
  (``CREATE TABLE IF NOT EXISTS ... TBLPROPERTIES ('table_type'='ICEBERG')``): this function
  already holds the Athena, Glue and S3 rights on the lake database and the DDL quoting, and
  the config loader stays without them.
"""

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from datalake_shared.cdc_tables import STACK_SOURCE, CdcTableConfig
from iceberg_cdc.announcer import source_table_arn
from iceberg_cdc.catalog import CatalogError, TableMissingError
from iceberg_cdc.changes import TtlPolicy
from iceberg_cdc.service import (
    ApplyOptions,
    CdcApplier,
    SchemaCatalog,
    StatementRunner,
    UnknownAttributePolicy,
)
from iceberg_cdc.sql import create_table_sql


class UnknownSourceError(LookupError):
    """No active cdc_tables entry names the batch's DynamoDB table."""


class CdcTableConfigs(Protocol):
    def load(self, source_table: str) -> CdcTableConfig | None: ...


def source_table_of(record: Mapping[str, Any]) -> str | None:
    """The DynamoDB table a stream record comes from (None without an eventSourceARN)."""
    arn = record.get("eventSourceARN") if isinstance(record, Mapping) else None
    table_arn = source_table_arn(arn if isinstance(arn, str) else None)
    if table_arn is None or ":table/" not in table_arn:
        return None
    return table_arn.split(":table/", 1)[1]


def by_source(records: Sequence[Any]) -> list[tuple[str | None, list[Any]]]:
    """The records grouped by source table, in order of first appearance (one group from
    Lambda; hand-made events may mix)."""
    groups: dict[str | None, list[Any]] = {}
    for record in records:
        groups.setdefault(source_table_of(record), []).append(record)
    return list(groups.items())


class CachedTableConfigs:
    """Entries by source table, each kept ``max_age`` seconds (absent ones too), so a batch
    normally costs no DynamoDB read and a config change shows within ``max_age``."""

    def __init__(
        self,
        store: CdcTableConfigs,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_age = max_age
        self._clock = clock
        self._cache: dict[str, tuple[float, CdcTableConfig | None]] = {}
        self.reads = 0

    def load(self, source_table: str) -> CdcTableConfig | None:
        now = self._clock()
        cached = self._cache.get(source_table)
        if cached is not None and cached[0] > now:
            return cached[1]
        self.reads += 1
        entry = self.store.load(source_table)
        self._cache[source_table] = (now + self.max_age, entry)
        return entry


def options_from(entry: CdcTableConfig, defaults: ApplyOptions) -> ApplyOptions:
    return dataclasses.replace(
        defaults,
        table=entry.target_table,
        key_columns=tuple(entry.key_columns),
        ttl_policy=TtlPolicy(entry.ttl_deletes),
        unknown_attributes=UnknownAttributePolicy(entry.unknown_attributes),
    )


@dataclass
class TableRouter:
    """Routes a batch's source table to the applier of its target table.

    ``configs`` None: no CDC tables config; every stream goes to ``defaults`` (one table, as
    before). Appliers are kept per options, so each keeps its own per-table state."""

    defaults: ApplyOptions
    catalog: SchemaCatalog
    runner: StatementRunner
    configs: CdcTableConfigs | None = None
    stack_source_table: str | None = None
    lake_bucket: str = ""
    config_table: str = "CdcTableConfigTable"
    _appliers: dict[ApplyOptions, CdcApplier] = field(default_factory=dict)
    _ready: set[tuple[str, str]] = field(default_factory=set)

    def applier_for(self, source_table: str | None, remaining: Callable[[], float]) -> CdcApplier:
        """Raises UnknownSourceError, or CatalogError when the missing target cannot be made."""
        entry, options = self.route(source_table)
        if entry is not None:
            self._ensure_table(entry, options, remaining)
        applier = self._appliers.get(options)
        if applier is None:
            applier = self._appliers[options] = CdcApplier(options, self.catalog, self.runner)
        return applier

    def route(self, source_table: str | None) -> tuple[CdcTableConfig | None, ApplyOptions]:
        is_stack = source_table is None or source_table == self.stack_source_table
        if self.configs is None:
            return None, self.defaults
        if is_stack:
            for name in (STACK_SOURCE, source_table):
                entry = self.configs.load(name) if name else None
                if entry is None:
                    continue
                if not entry.active:
                    # Stopped on purpose: never fall back to the template's defaults.
                    raise UnknownSourceError(
                        f"the stack's source stream has an inactive cdc_tables entry ({name!r}) "
                        f"in {self.config_table}: its records are failed (they reach "
                        "CdcFailuresQueue once retries are spent); set it active to apply them"
                    )
                return entry, options_from(entry, self.defaults)
            return None, self.defaults
        assert source_table is not None
        entry = self.configs.load(source_table)
        if entry is None or not entry.active:
            state = "no" if entry is None else "an inactive"
            raise UnknownSourceError(
                f"DynamoDB table {source_table!r} has {state} cdc_tables entry in "
                f"{self.config_table}: its records are failed (they reach CdcFailuresQueue "
                "once retries are spent); add it to the pipeline config, or remove its mapping"
            )
        return entry, options_from(entry, self.defaults)

    def _ensure_table(
        self, entry: CdcTableConfig, options: ApplyOptions, remaining: Callable[[], float]
    ) -> None:
        """Creates the target table from the entry's columns when the catalog lacks it."""
        target = (options.database, options.table)
        if target in self._ready:
            return
        try:
            self.catalog.table_schema(*target)
        except TableMissingError:
            self._create(entry, options, remaining)
        self._ready.add(target)

    def _create(
        self, entry: CdcTableConfig, options: ApplyOptions, remaining: Callable[[], float]
    ) -> None:
        columns = [(column.name, column.type) for column in entry.columns]
        try:
            sql = create_table_sql(options.database, options.table, columns, self.lake_bucket)
        except ValueError as error:  # UnsafeIdentifierError too
            raise CatalogError(
                f"cannot create {options.database}.{options.table}: {error}"
            ) from error
        result = self.runner.run(sql, remaining)
        self.catalog.invalidate(options.database, options.table)
        if not result.succeeded:
            raise CatalogError(
                f"creating {options.database}.{options.table} failed: {result.error}"
            )
