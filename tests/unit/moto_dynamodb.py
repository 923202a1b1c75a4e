"""template.yaml's DynamoDB tables in moto, for the unit tests of the adapters that use them."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
from lambda_support import create_template_table
from moto import mock_aws


@contextmanager
def template_tables(template: dict[str, Any], tables: Mapping[str, str]) -> Iterator[Any]:
    """A moto DynamoDB client holding the template's tables (logical id -> name) as declared."""
    with mock_aws():
        client = boto3.client("dynamodb")
        for logical_id, name in tables.items():
            create_template_table(client, template, logical_id, name)
        yield client
