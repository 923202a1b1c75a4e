"""The QuickSight SPICE dataset of each workbook table, over the stack's Athena data source.

A dataset per table, ``<stack>-workbook-<name>`` (``workbook_tables.dataset_id``), imports into
SPICE the rows of a custom SQL query on the table that types what the table keeps as text:
dates and date-times become DATETIME, empty ones NULL (a QuickSight cast of an empty string
would skip the row instead). The SPICE ingestion flow refreshes it each time a workbook under
the table's prefix is cleaned (spice_target). The QuickSight principal of the stack gets the
dataset's owner permissions.

``QuickSightDatasets`` makes a dataset match its definition (DescribeDataSet; CreateDataSet or
UpdateDataSet only where what it sets differs, so a repeated load changes nothing: an update is
a full SPICE refresh; the principal's permissions granted when missing) and deletes one; a
dataset already gone is not an error.

QuickSight's limits (botocore's model; moto checks none): a dataset's name is at most 128
characters (``dataset_name`` shortens it), its custom SQL at most 168,000 (``MAX_SQL_QUERY``:
the config loader refuses a table whose query is longer), an input column's name at most 128
(``workbook_tables.MAX_COLUMN_NAME``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import boto3
from botocore.exceptions import ClientError

from datalake_shared.athena_names import quote_identifier
from datalake_shared.workbook_csv import WorkbookColumnType
from datalake_shared.workbook_tables import TYPED_SQL, WorkbookTable, dataset_id, projected

PHYSICAL_TABLE: Final = "workbook"
MAX_NAME: Final = 128
MAX_SQL_QUERY: Final = 168_000
_ACCOUNT_FIELD: Final = 4  # arn:partition:service:region:account:resource
_NOT_FOUND: Final = "ResourceNotFoundException"
OWNER_ACTIONS: Final = (
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:UpdateDataSetPermissions",
)
# QuickSight's input column types (QuickSight reads an Athena boolean as one).
INPUT_TYPES: Final[Mapping[WorkbookColumnType, str]] = {
    WorkbookColumnType.STRING: "STRING",
    WorkbookColumnType.INTEGER: "INTEGER",
    WorkbookColumnType.NUMBER: "DECIMAL",
    WorkbookColumnType.BOOLEAN: "BOOLEAN",
    WorkbookColumnType.DATE: "DATETIME",
    WorkbookColumnType.DATETIME: "DATETIME",
}
# A number is an Athena double, as Excel keeps it: SPICE's floating decimal, not its fixed one
# (4 decimal places).
SUB_TYPES: Final[Mapping[WorkbookColumnType, str]] = {WorkbookColumnType.NUMBER: "FLOAT"}


def select_statement(table: WorkbookTable, database: str) -> str:
    """The dataset's query: every column of the table, dates and date-times typed."""
    selected = []
    for column in table.columns:
        quoted = quote_identifier(column.name)
        how = TYPED_SQL.get(column.type)
        selected.append(f"{how.format(column=quoted)} AS {quoted}" if how else quoted)
    source = f"{quote_identifier(database)}.{quote_identifier(table.glue_name)}"
    # Identifiers only, each quoted (names are snake_case, validated with the config).
    return f"SELECT {', '.join(selected)} FROM {source}"  # noqa: S608


def dataset_name(table: WorkbookTable) -> str:
    """``orders (workbooks under incoming/orders/)``; a long prefix is cut from the front."""
    name = f"{table.name} (workbooks under {table.prefix})"
    if len(name) <= MAX_NAME:
        return name
    room = MAX_NAME - len(f"{table.name} (workbooks under …)")
    return f"{table.name} (workbooks under …{table.prefix[-room:]})"


def input_columns(table: WorkbookTable) -> list[dict[str, str]]:
    """The dataset's input columns: the table's, typed as QuickSight reads the query."""
    columns = []
    for column in table.columns:
        described = {"Name": column.name, "Type": INPUT_TYPES[column.type]}
        if column.type in SUB_TYPES:
            described["SubType"] = SUB_TYPES[column.type]
        columns.append(described)
    return columns


def account_of(arn: str) -> str:
    """arn:<partition>:<service>:<region>:<account>:<resource> -> <account>."""
    parts = arn.split(":")
    return parts[4] if len(parts) > _ACCOUNT_FIELD else ""


@dataclass(frozen=True, slots=True)
class DatasetDefinition:
    """What one workbook table's dataset should be (CreateDataSet / UpdateDataSet arguments)."""

    data_set_id: str
    name: str
    physical_table_map: dict[str, Any]

    def request(self) -> dict[str, Any]:
        return {
            "DataSetId": self.data_set_id,
            "Name": self.name,
            "PhysicalTableMap": self.physical_table_map,
            "ImportMode": "SPICE",
        }

    @property
    def sql_query(self) -> str:
        query: str = self.physical_table_map[PHYSICAL_TABLE]["CustomSql"]["SqlQuery"]
        return query

    def differs_from(self, described: Mapping[str, Any]) -> bool:
        """Whether the dataset described (DescribeDataSet) must be updated: only what
        ``request`` sets is compared, so a field QuickSight adds (a column's SubType, say)
        starts no refresh."""
        wanted = self.request()
        return bool(projected(described, wanted) != wanted)


def dataset_definition(
    table: WorkbookTable, owner: str, database: str, data_source_arn: str
) -> DatasetDefinition:
    return DatasetDefinition(
        data_set_id=dataset_id(owner, table.name),
        name=dataset_name(table),
        physical_table_map={
            PHYSICAL_TABLE: {
                "CustomSql": {
                    "DataSourceArn": data_source_arn,
                    "Name": table.glue_name,
                    "SqlQuery": select_statement(table, database),
                    "Columns": input_columns(table),
                }
            }
        },
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class QuickSightDatasets:
    """The stack's workbook datasets in one account (the boto3 client is made on first use)."""

    def __init__(self, account_id: str, principal_arn: str, client: Any = None) -> None:
        self.account_id = account_id
        self.principal_arn = principal_arn
        self._client = client

    @cached_property
    def client(self) -> Any:
        return self._client or boto3.client("quicksight")

    def describe(self, data_set_id: str) -> dict[str, Any] | None:
        try:
            response = self.client.describe_data_set(
                AwsAccountId=self.account_id, DataSetId=data_set_id
            )
        except ClientError as error:
            if _code(error) == _NOT_FOUND:
                return None
            raise
        described: dict[str, Any] = response["DataSet"]
        return described

    def ensure(self, wanted: DatasetDefinition) -> str:
        """Makes the dataset ``wanted``; says "created", "updated" or "unchanged"."""
        current = self.describe(wanted.data_set_id)
        if current is None:
            self.client.create_data_set(
                AwsAccountId=self.account_id, **wanted.request(), Permissions=[self._permission()]
            )
            return "created"
        changed = wanted.differs_from(current)
        if changed:
            self.client.update_data_set(AwsAccountId=self.account_id, **wanted.request())
        if self._grant_missing(wanted.data_set_id):
            changed = True
        return "updated" if changed else "unchanged"

    def ids_starting_with(self, prefix: str) -> list[str]:
        """The ids of the account's datasets starting with ``prefix`` (ListDataSets)."""
        paginator = self.client.get_paginator("list_data_sets")
        return sorted(
            summary["DataSetId"]
            for page in paginator.paginate(AwsAccountId=self.account_id)
            for summary in page.get("DataSetSummaries", [])
            if str(summary.get("DataSetId", "")).startswith(prefix)
        )

    def delete(self, data_set_id: str) -> bool:
        """Deletes the dataset; says whether there was one."""
        try:
            self.client.delete_data_set(AwsAccountId=self.account_id, DataSetId=data_set_id)
        except ClientError as error:
            if _code(error) == _NOT_FOUND:
                return False
            raise
        return True

    def _permission(self) -> dict[str, Any]:
        return {"Principal": self.principal_arn, "Actions": list(OWNER_ACTIONS)}

    def _grant_missing(self, data_set_id: str) -> bool:
        """Grants the principal the owner actions it lacks (a principal changed since)."""
        response = self.client.describe_data_set_permissions(
            AwsAccountId=self.account_id, DataSetId=data_set_id
        )
        held = {
            action
            for permission in response.get("Permissions", [])
            if permission.get("Principal") == self.principal_arn
            for action in permission.get("Actions", [])
        }
        if set(OWNER_ACTIONS) <= held:
            return False
        self.client.update_data_set_permissions(
            AwsAccountId=self.account_id,
            DataSetId=data_set_id,
            GrantPermissions=[self._permission()],
        )
        return True
