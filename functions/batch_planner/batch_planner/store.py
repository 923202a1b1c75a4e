"""Which source tables have files waiting: one paginated Query of the file tracker's sparse index.

Only files still to be merged carry ``pending_status``, so ``pending-files-index`` holds the
pending work and nothing else. One Query (followed page by page) lists every pending file;
reading only ``source_table`` (the table's partition key, which every index item carries)
keeps the pages small on the wire. The table is never parsed out of the sort key
``pending_order``: a table name may hold "#", and a long one is cut and hashed there. Never a
Scan of the tracker, never a Query per table.
"""

from functools import cached_property
from typing import TYPE_CHECKING

import boto3

from datalake_contracts import file_tracker_item as item_layout

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef


class DynamoPendingTables:
    """Lists the source tables that have at least one pending file in the file tracker table."""

    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
    ) -> None:
        self.table_name = table_name
        self._client = client

    @cached_property
    def client(self) -> "DynamoDBClient":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("dynamodb")

    def _request(self) -> "QueryInputTypeDef":
        return {
            "TableName": self.table_name,
            "IndexName": item_layout.PENDING_INDEX,
            "KeyConditionExpression": "#status = :landed",
            "ProjectionExpression": "#table",
            "ExpressionAttributeNames": {
                "#status": item_layout.PENDING_STATUS,
                "#table": item_layout.SOURCE_TABLE,
            },
            "ExpressionAttributeValues": {":landed": {"S": item_layout.LANDED_STATUS}},
        }

    def pending_tables(self) -> set[str]:
        """Every source table with a pending file: all pages of one Query of the index."""
        request = self._request()
        tables: set[str] = set()
        while True:
            page = self.client.query(**request)
            for item in page.get("Items", []):
                table = item.get(item_layout.SOURCE_TABLE, {}).get("S")
                if table:
                    tables.add(table)
            last_key = page.get("LastEvaluatedKey")
            if not last_key:
                return tables
            request["ExclusiveStartKey"] = last_key
