"""One DynamoDB table the job talks to, its client made on first use (tests inject one)."""

from functools import cached_property
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoTable:
    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        self.table_name = table_name
        self._client = client

    @cached_property
    def client(self) -> "DynamoDBClient":
        # Never at import: importing the job needs no AWS region or credentials.
        return self._client or boto3.client("dynamodb")
