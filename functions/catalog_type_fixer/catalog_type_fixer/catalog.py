"""Glue Data Catalog adapter: GetTable and a conditional UpdateTable."""

from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from catalog_type_fixer.service import TableChangedMeanwhileError, TableNotFoundError

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_glue.type_defs import TableInputTypeDef, TableTypeDef


class GlueCatalog:
    """The tables of the account's Data Catalog (glue:GetTable, glue:UpdateTable)."""

    def __init__(self, client: "GlueClient | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "GlueClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("glue")

    def get_table(self, database: str, name: str) -> "TableTypeDef":
        try:
            return self.client.get_table(DatabaseName=database, Name=name)["Table"]
        except self.client.exceptions.EntityNotFoundException as error:
            raise TableNotFoundError(f"{database}.{name}") from error

    def update_table(
        self, database: str, table_input: "TableInputTypeDef", version_id: str | None
    ) -> None:
        """Optimistic concurrency: with ``version_id`` Glue refuses the update when the table
        moved on since it was read (ConcurrentModificationException), so a crawler's newer
        columns are never overwritten by ours. Other errors (access denied, invalid input,
        throttling) propagate as the ClientError they are."""
        name = table_input["Name"]
        try:
            if version_id is None:
                self.client.update_table(DatabaseName=database, TableInput=table_input)
            else:
                self.client.update_table(
                    DatabaseName=database, TableInput=table_input, VersionId=version_id
                )
        except self.client.exceptions.ConcurrentModificationException as error:
            raise TableChangedMeanwhileError(
                f"{database}.{name} changed after version {version_id} was read"
            ) from error
        except self.client.exceptions.EntityNotFoundException as error:
            raise TableNotFoundError(f"{database}.{name}") from error
