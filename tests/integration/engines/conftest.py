"""The engine tier: the same code paths against AWS's DynamoDB Local, local Spark 3.5 + Iceberg
1.10, the ASL validators and strict Trino parsing, which refuse what moto and DuckDB accept.

An engine that is not installed (scripts/install-engines; needs Java >= 17 or npm) skips its
tests with the reason; with REQUIRE_ENGINES=1 (CI) it fails them instead.
"""

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from samcli.yamlhelper import yaml_parse

from local_runtime.real_engines import DynamoDbLocal, EngineMissingError
from local_runtime.template_tables import create_table_from_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

ROOT = Path(__file__).resolve().parents[3]
_table_numbers = itertools.count(1)


def require_engine[T](locate: Callable[[], T]) -> T:
    """What ``locate`` finds; a missing engine skips the test (fails it with REQUIRE_ENGINES=1)."""
    try:
        return locate()
    except EngineMissingError as missing:
        if os.environ.get("REQUIRE_ENGINES") == "1":
            pytest.fail(f"REQUIRE_ENGINES=1 and an engine is missing: {missing}")
        pytest.skip(f"engine not available: {missing}")


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as data (CloudFormation short tags understood)."""
    parsed: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text())
    return parsed


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDbLocal]:
    """One DynamoDB Local (in memory, free loopback port) for the whole session."""
    server = require_engine(DynamoDbLocal)
    require_engine(server.start)
    yield server
    server.stop()


def _client(service: str, endpoint_url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def dynamodb(dynamodb_local: DynamoDbLocal) -> "DynamoDBClient":
    client: DynamoDBClient = _client("dynamodb", dynamodb_local.endpoint_url)
    return client


@pytest.fixture
def dynamodb_streams(dynamodb_local: DynamoDbLocal) -> "DynamoDBStreamsClient":
    client: DynamoDBStreamsClient = _client("dynamodbstreams", dynamodb_local.endpoint_url)
    return client


@pytest.fixture
def template_table(dynamodb: "DynamoDBClient", template: dict[str, Any]) -> Callable[[str], str]:
    """Creates a fresh table on DynamoDB Local as template.yaml declares ``logical_id``; returns
    its name (unique per call, so tests never see each other's items)."""

    def create(logical_id: str) -> str:
        name = f"{logical_id}-{next(_table_numbers)}"
        create_table_from_template(dynamodb, template, logical_id, name)
        return name

    return create
