from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from config_loader_fakes import (
    BATCH_TABLE,
    BATCH_TABLE_KEYS,
    FIXED_NOW,
    TABLE_TABLE,
    TABLE_TABLE_KEYS,
    WRITABLE_DATABASES,
    FakeApplier,
    FakeObjects,
)
from eventbridge_fake import RecordingPublisher
from moto import mock_aws

from config_loader.service import ConfigLoader
from datalake_shared.config_store import PipelineConfigStore


@pytest.fixture
def objects() -> FakeObjects:
    return FakeObjects()


@pytest.fixture
def applier() -> FakeApplier:
    return FakeApplier()


@pytest.fixture
def events() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def loader(objects: FakeObjects, applier: FakeApplier, events: RecordingPublisher) -> ConfigLoader:
    return ConfigLoader(
        objects, applier, events, WRITABLE_DATABASES, now=lambda: "2026-11-23T09:00:00Z"
    )


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A moto DynamoDB client holding the two config tables."""
    with mock_aws():
        client = boto3.client("dynamodb")
        for name, keys in ((BATCH_TABLE, BATCH_TABLE_KEYS), (TABLE_TABLE, TABLE_TABLE_KEYS)):
            client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **keys)
        yield client


@pytest.fixture
def config_store(dynamodb: Any) -> PipelineConfigStore:
    return PipelineConfigStore(BATCH_TABLE, TABLE_TABLE, client=dynamodb, now=lambda: FIXED_NOW)
