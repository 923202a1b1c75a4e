"""Reconciler: one Glue table per workbook table of the config (and its QuickSight dataset).

Each entry of ``workbook_tables`` gets an external CSV table ``workbook_<name>`` in the stack's
lake database over its clean-bucket prefix (``workbook_tables.table_input``); a table that
differs is updated; an owned table no longer listed is deleted (its CSVs stay). Only tables
carrying ``OWNER_PARAMETER`` with this stack's name are ever changed or deleted: the state lives
in the catalog itself, nothing else is stored. A file without ``workbook_tables`` leaves them as
they are.

With QuickSight on (the stack's Athena data source and a principal set), each table also has
its SPICE dataset (``workbook_datasets``), made after the table it reads and deleted before it.
Once the dataset exists (created, or found), the table is marked with its id
(``DATASET_PARAMETER``): the SPICE ingestion flow refreshes only marked tables' datasets, so a
table whose dataset is not made yet (QuickSight turned on since the last load, a CreateDataSet
that failed) ends its workbooks' runs "not mapped" instead of failing on a missing dataset.
With QuickSight off, datasets are neither made nor deleted, and the marks stay as they are.

``problems``, before anything of the file is written: a prefix outside the workbook upload
prefix (no workbook is ever cleaned there), a name already taken in the database by a table this
stack's loader did not make, and, QuickSight on, a dataset id over QuickSight's 128 characters
or a dataset query over its 168,000.
"""

from dataclasses import dataclass, field
from typing import Any, Final, Self

from pydantic import Field, model_validator

from datalake_shared.config_reconcile import Reconciliation
from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.workbook_datasets import (
    MAX_SQL_QUERY,
    DatasetDefinition,
    QuickSightDatasets,
    account_of,
    dataset_definition,
)
from datalake_shared.workbook_tables import (
    WORKBOOK_TABLES,
    GlueWorkbookTables,
    OwnedTable,
    WorkbookTable,
    WorkbookTableSite,
    dataset_id,
    differs,
    table_input,
)

RECONCILER_NAME: Final = WORKBOOK_TABLES
MAX_DATASET_ID: Final = 128


class WorkbookTableSettings(WorkbookTableSite):
    """Settings of a config loader that keeps the workbook tables (mixin). Empty
    ``WORKBOOK_TABLE_DATABASE``: the stack has none; the reconciler is off."""

    clean_bucket: str = Field(default="", alias="CLEAN_BUCKET")
    workbook_upload_prefix: str = Field(default="", alias="WORKBOOK_UPLOAD_PREFIX")
    # Both set (QuickSightEnabled): each table also has its SPICE dataset.
    quicksight_data_source_arn: str = Field(default="", alias="QUICKSIGHT_DATA_SOURCE_ARN")
    quicksight_principal_arn: str = Field(default="", alias="QUICKSIGHT_PRINCIPAL_ARN")

    @model_validator(mode="after")
    def _workbook_settings_agree(self) -> Self:
        if self.workbook_tables_on and not self.workbook_table_owner:
            raise ValueError(
                "WORKBOOK_TABLE_OWNER (the stack's name) is empty: it marks the workbook tables "
                "this stack owns"
            )
        if bool(self.quicksight_data_source_arn) != bool(self.quicksight_principal_arn):
            raise ValueError(
                "QUICKSIGHT_DATA_SOURCE_ARN and QUICKSIGHT_PRINCIPAL_ARN are set together "
                "(QuickSight on) or not at all"
            )
        return self

    @property
    def workbook_tables_on(self) -> bool:
        return bool(self.workbook_table_database and self.clean_bucket)

    @property
    def quicksight_on(self) -> bool:
        return bool(self.quicksight_data_source_arn and self.quicksight_principal_arn)


@dataclass(frozen=True, slots=True)
class WorkbookTableChanges(Reconciliation):
    """The tables changed, and (QuickSight on) the datasets."""

    datasets: Reconciliation | None = None

    def summary(self) -> dict[str, Any]:
        # Reconciliation.summary, not super(): slots dataclasses break zero-argument super().
        summary: dict[str, Any] = Reconciliation.summary(self)
        if self.datasets is not None:
            summary["datasets"] = self.datasets.summary()
        return summary


@dataclass
class _Changes:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def add(self, outcome: str, name: str) -> None:
        getattr(self, outcome).append(name)

    def frozen(self) -> Reconciliation:
        return Reconciliation(
            tuple(self.created), tuple(self.updated), tuple(self.removed), tuple(self.unchanged)
        )

    def with_datasets(self, datasets: "_Changes | None") -> WorkbookTableChanges:
        return WorkbookTableChanges(
            tuple(self.created),
            tuple(self.updated),
            tuple(self.removed),
            tuple(self.unchanged),
            datasets.frozen() if datasets is not None else None,
        )


class WorkbookTableReconciler:
    """Implements ``ConfigReconciler`` for ``workbook_tables``."""

    name = RECONCILER_NAME

    def __init__(
        self,
        settings: WorkbookTableSettings,
        glue: GlueWorkbookTables,
        datasets: QuickSightDatasets | None = None,
    ) -> None:
        self.settings = settings
        self.glue = glue
        self.datasets = datasets

    def problems(self, config: PipelineConfig) -> list[str]:
        listed = config.workbook_tables or []
        if not listed:
            return []
        found: list[str] = []
        upload = self.settings.workbook_upload_prefix
        _, taken = self.glue.read()  # other tables' names (one GetTables, not one per table)
        for index, table in enumerate(listed):
            where = f"{WORKBOOK_TABLES}[{index}]"
            if not table.prefix.startswith(upload):
                found.append(
                    f"{where}.prefix: {table.prefix!r} is outside the workbook upload prefix "
                    f"{upload!r} (WorkbookUploadPrefix): no workbook is cleaned there"
                )
            if table.glue_name in taken:
                found.append(
                    f"{where}.name: the database {self.glue.database} already has a table "
                    f"{table.glue_name!r} this stack's config loader did not make: pick another "
                    "name"
                )
            if self.datasets is not None:
                found += self._dataset_problems(table, where)
        return found

    def _dataset_problems(self, table: WorkbookTable, where: str) -> list[str]:
        """What QuickSight would refuse of the table's dataset (moto checks no length)."""
        definition = self._dataset(table)
        found = []
        if len(definition.data_set_id) > MAX_DATASET_ID:
            found.append(
                f"{where}.name: its QuickSight dataset id {definition.data_set_id!r} would be "
                f"over {MAX_DATASET_ID} characters: pick a shorter name"
            )
        if len(definition.sql_query) > MAX_SQL_QUERY:
            found.append(
                f"{where}.columns: its QuickSight dataset's query would be "
                f"{len(definition.sql_query)} characters, over QuickSight's {MAX_SQL_QUERY}: "
                "fewer or shorter columns"
            )
        return found

    def reconcile(self, config: PipelineConfig) -> WorkbookTableChanges:
        listed = config.workbook_tables
        if listed is None:  # the file does not mention them: left as they are
            return WorkbookTableChanges()
        tables, datasets = _Changes(), _Changes()
        owned = self.glue.owned()
        for table in listed:
            self._keep(table, owned.get(table.glue_name), tables, datasets)
        wanted = {table.glue_name for table in listed}
        for glue_name, (gone, _) in sorted(owned.items()):
            if glue_name in wanted:
                continue
            if self.datasets is not None:  # before the table it reads
                data_set_id = dataset_id(self.settings.workbook_table_owner, gone.name)
                if self.datasets.delete(data_set_id):
                    datasets.removed.append(data_set_id)
            self.glue.delete(glue_name)
            tables.removed.append(glue_name)
        return tables.with_datasets(datasets if self.datasets is not None else None)

    def _dataset(self, table: WorkbookTable) -> DatasetDefinition:
        settings = self.settings
        return dataset_definition(
            table,
            settings.workbook_table_owner,
            settings.workbook_table_database,
            settings.quicksight_data_source_arn,
        )

    def _keep(
        self,
        table: WorkbookTable,
        current: tuple[OwnedTable, dict[str, Any]] | None,
        tables: _Changes,
        datasets: _Changes,
    ) -> None:
        settings = self.settings
        bucket, owner = settings.clean_bucket, settings.workbook_table_owner
        # The dataset mark is kept as found: set once the dataset exists, below.
        marked = current[0].dataset_id if current is not None else None
        wanted = table_input(table, bucket, owner, marked)
        if current is None:
            self.glue.create(wanted)
            tables.created.append(table.glue_name)
        elif differs(current[1], wanted):
            self.glue.update(wanted)
            tables.updated.append(table.glue_name)
        else:
            tables.unchanged.append(table.glue_name)
        if self.datasets is not None:  # after the table it reads
            definition = self._dataset(table)
            datasets.add(self.datasets.ensure(definition), definition.data_set_id)
            if marked != definition.data_set_id:  # it exists now: spice_target may refresh it
                self.glue.update(table_input(table, bucket, owner, definition.data_set_id))


def workbook_table_reconciler(
    settings: WorkbookTableSettings, glue_client: Any = None, quicksight_client: Any = None
) -> WorkbookTableReconciler | None:
    """The reconciler a config loader with these settings runs (None: the stack has none)."""
    if not settings.workbook_tables_on:
        return None
    glue = settings.workbook_glue_tables(glue_client)
    datasets = None
    if settings.quicksight_on:
        datasets = QuickSightDatasets(
            account_of(settings.quicksight_data_source_arn),
            settings.quicksight_principal_arn,
            quicksight_client,
        )
    return WorkbookTableReconciler(settings, glue, datasets)
