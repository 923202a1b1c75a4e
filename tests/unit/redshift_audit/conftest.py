from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from lambda_support import create_template_table
from moto import mock_aws
from redshift_audit_fakes import BUCKET, SECRET_NAME, TABLE, Aws, Sleeps

from local_runtime.slack_sink import SlackSink


@pytest.fixture
def sink() -> Iterator[SlackSink]:
    with SlackSink() as running:
        yield running


@pytest.fixture(scope="session")
def aws_clients() -> Aws:
    """Clients made once: moto intercepts them inside each test's own mock_aws()."""
    return Aws(boto3.client("s3"), boto3.client("dynamodb"), boto3.client("secretsmanager"))


@pytest.fixture
def aws(sink: SlackSink, aws_clients: Aws, sam_template: dict[str, Any]) -> Iterator[Aws]:
    """Fresh moto bucket, idempotency table and webhook secret (the sink's URL) per test."""
    parameters.clear_caches()
    with mock_aws():
        aws_clients.s3.create_bucket(Bucket=BUCKET)
        create_template_table(aws_clients.dynamodb, sam_template, "AlertIdempotencyTable", TABLE)
        aws_clients.secrets.create_secret(Name=SECRET_NAME, SecretString=sink.url)
        yield aws_clients
    parameters.clear_caches()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
