from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from lambda_support import create_template_table
from moto import mock_aws
from pipeline_monitor_fakes import BUCKET, SECRET_NAME, TABLE, Aws, FakeEventsClient, Sleeps

from local_runtime.slack_sink import SlackSink


@pytest.fixture
def sink() -> Iterator[SlackSink]:
    """A real HTTP server on 127.0.0.1 standing in for Slack."""
    with SlackSink() as running:
        yield running


@pytest.fixture(scope="session")
def aws_clients() -> Aws:
    """Clients made once: moto intercepts them inside each test's own mock_aws()."""
    return Aws(boto3.client("s3"), boto3.client("dynamodb"), boto3.client("secretsmanager"))


@pytest.fixture
def aws(sink: SlackSink, aws_clients: Aws, sam_template: dict[str, Any]) -> Iterator[Aws]:
    """moto S3 bucket, idempotency table (as the template declares it) and the webhook secret
    holding the sink's URL, fresh for each test. Powertools' parameter cache is emptied too."""
    parameters.clear_caches()
    with mock_aws():
        resources = aws_clients
        resources.s3.create_bucket(Bucket=BUCKET)
        create_template_table(resources.dynamodb, sam_template, "AlertIdempotencyTable", TABLE)
        resources.secrets.create_secret(Name=SECRET_NAME, SecretString=sink.url)
        yield resources
    parameters.clear_caches()


@pytest.fixture
def events() -> FakeEventsClient:
    return FakeEventsClient()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
