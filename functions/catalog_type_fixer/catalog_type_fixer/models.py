"""The events the fixer reads: Glue "Table State Change" events, as EventBridge delivers them to
the queue (each SQS message body is one event)."""

from typing import Final, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json

from datalake_shared.event_shapes import NameText

TABLE_STATE_CHANGE: Final = "Glue Data Catalog Table State Change"
CREATE_TABLE: Final = "CreateTable"
UPDATE_TABLE: Final = "UpdateTable"
TABLE_CHANGES: Final = frozenset({CREATE_TABLE, UPDATE_TABLE})
"""The changes that can (re)write a table's columns; partition and delete changes cannot."""


class TableStateChangeDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    database_name: NameText = Field(alias="databaseName")
    table_name: NameText = Field(alias="tableName")
    type_of_change: NameText = Field(alias="typeOfChange")
    changed_partitions: list[str] = Field(default_factory=list, alias="changedPartitions")


class TableStateChangeEvent(EventBridgeModel):
    """An EventBridge event of source "aws.glue" about one Data Catalog table."""

    source: Literal["aws.glue"]
    detail_type: Literal["Glue Data Catalog Table State Change"] = Field(alias="detail-type")
    detail: TableStateChangeDetail


class TableStateChangeSqsRecord(SqsRecordModel):
    """An SQS message whose body is a Glue table state change event (rule → queue)."""

    body: Json[TableStateChangeEvent]
