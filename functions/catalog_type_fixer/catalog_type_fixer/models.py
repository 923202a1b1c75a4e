"""The events the fixer reads, as EventBridge delivers them to the queue (each SQS message body
is one event). Glue announces table writes in two shapes:

- "Glue Data Catalog Database State Change" for CreateTable (and DeleteTable, BatchDeleteTable,
  CreateDatabase...): the tables are listed in ``detail.changedTables``;
- "Glue Data Catalog Table State Change" for UpdateTable and the partition calls: the table is
  ``detail.tableName``.

A crawler's first run creates its tables (the first shape), later runs update them (the
second): the rule routes both, and ``CatalogChangeDetail.tables`` reads either.
"""

from typing import Final, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json, model_validator

from datalake_shared.event_shapes import NameText

TABLE_STATE_CHANGE: Final = "Glue Data Catalog Table State Change"
DATABASE_STATE_CHANGE: Final = "Glue Data Catalog Database State Change"
CREATE_TABLE: Final = "CreateTable"
UPDATE_TABLE: Final = "UpdateTable"
TABLE_CHANGES: Final = frozenset({CREATE_TABLE, UPDATE_TABLE})
"""The changes that can (re)write a table's columns; partition and delete changes cannot."""


class CatalogChangeDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    database_name: NameText = Field(alias="databaseName")
    type_of_change: NameText = Field(alias="typeOfChange")
    table_name: NameText | None = Field(default=None, alias="tableName")
    changed_tables: list[NameText] = Field(default_factory=list, alias="changedTables")
    changed_partitions: list[str] = Field(default_factory=list, alias="changedPartitions")

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables the change is about: the table of a table state change, else the tables
        a database state change lists (in order, each once)."""
        if self.table_name is not None:
            return (self.table_name,)
        return tuple(dict.fromkeys(self.changed_tables))


class CatalogChangeEvent(EventBridgeModel):
    """An EventBridge event of source "aws.glue" about Data Catalog tables."""

    source: Literal["aws.glue"]
    detail_type: Literal[
        "Glue Data Catalog Table State Change", "Glue Data Catalog Database State Change"
    ] = Field(alias="detail-type")
    detail: CatalogChangeDetail

    @model_validator(mode="after")
    def _a_table_change_names_its_table(self) -> "CatalogChangeEvent":
        if self.detail_type == TABLE_STATE_CHANGE and self.detail.table_name is None:
            raise ValueError("a table state change names its table (detail.tableName)")
        return self


class CatalogChangeSqsRecord(SqsRecordModel):
    """An SQS message whose body is a Glue catalog change event (rule → queue)."""

    body: Json[CatalogChangeEvent]
