"""S3ConfigObjects against moto, and the handler over the real adapters (S3 + DynamoDB)."""

from typing import Any

import boto3
import pytest
from config_loader_fakes import (
    BATCH_TABLE,
    BUCKET,
    TABLE_TABLE,
    WRITABLE_DATABASES,
    app,
    load_event,
    sample_config_text,
)
from eventbridge_fake import RecordingPublisher
from lambda_support import FakeLambdaContext

from config_loader.service import ConfigLoader
from config_loader.store import S3ConfigObjects
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError


@pytest.fixture
def s3(dynamodb: Any) -> Any:
    """A moto S3 client (inside the dynamodb fixture's mock) with a versioned bucket."""
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


@pytest.fixture
def s3_objects(s3: Any) -> S3ConfigObjects:
    return S3ConfigObjects(client=s3)


def test_read_returns_the_content_and_its_version(s3: Any, s3_objects: S3ConfigObjects) -> None:
    put = s3.put_object(Bucket=BUCKET, Key="config/p.yaml", Body=b"batches: []\n")
    obj = s3_objects.read(BUCKET, "config/p.yaml", max_bytes=1024)
    assert (obj.body, obj.version_id) == (b"batches: []\n", put["VersionId"])


def test_read_refuses_objects_over_the_limit(s3: Any, s3_objects: S3ConfigObjects) -> None:
    s3.put_object(Bucket=BUCKET, Key="config/big.yaml", Body=b"#" * 2048)
    with pytest.raises(ObjectTooLargeError) as raised:
        s3_objects.read(BUCKET, "config/big.yaml", max_bytes=1024)
    assert raised.value.size == 2048


def test_read_of_a_deleted_object_says_it_is_missing(s3_objects: S3ConfigObjects) -> None:
    with pytest.raises(ObjectMissingError):
        s3_objects.read(BUCKET, "config/gone.yaml", max_bytes=1024)


def test_put_text_writes_a_plain_text_object(s3: Any, s3_objects: S3ConfigObjects) -> None:
    s3_objects.put_text(BUCKET, "config/p.yaml.rejected.txt", "problem \u2192 fix\n")
    obj = s3.get_object(Bucket=BUCKET, Key="config/p.yaml.rejected.txt")
    assert obj["Body"].read().decode() == "problem \u2192 fix\n"
    assert obj["ContentType"] == "text/plain; charset=utf-8"


def test_delete_if_exists_deletes_an_existing_object(s3: Any, s3_objects: S3ConfigObjects) -> None:
    s3.put_object(Bucket=BUCKET, Key="config/p.yaml.rejected.txt", Body=b"old")
    assert s3_objects.delete_if_exists(BUCKET, "config/p.yaml.rejected.txt") is True
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_delete_if_exists_adds_no_delete_marker_when_there_is_nothing(
    s3: Any, s3_objects: S3ConfigObjects
) -> None:
    # Given a versioned bucket without the report / When asked to delete it
    assert s3_objects.delete_if_exists(BUCKET, "config/p.yaml.rejected.txt") is False
    # Then no delete marker was written
    assert "DeleteMarkers" not in s3.list_object_versions(Bucket=BUCKET)


def test_client_is_built_on_first_use_only() -> None:
    assert "client" not in vars(S3ConfigObjects())


def real_loader(s3: Any, dynamodb: Any, events: RecordingPublisher) -> ConfigLoader:
    return ConfigLoader(
        S3ConfigObjects(client=s3),
        PipelineConfigStore(BATCH_TABLE, TABLE_TABLE, client=dynamodb),
        events,
        WRITABLE_DATABASES,
    )


def test_uploaded_example_reaches_the_config_tables(s3: Any, dynamodb: Any) -> None:
    # Given the example config in S3 and the real adapters
    s3.put_object(Bucket=BUCKET, Key="config/pipeline.yaml", Body=sample_config_text().encode())
    loader = real_loader(s3, dynamodb, RecordingPublisher())
    # When the sample event is handled
    app.lambda_handler(load_event("config_uploaded.json"), FakeLambdaContext(), loader=loader)
    # Then the planner's reads see the hourly cadence and its tables
    store = PipelineConfigStore(BATCH_TABLE, TABLE_TABLE, client=dynamodb)
    batch = store.load_batch_config("hourly")
    assert batch is not None
    assert (batch.batch_size, batch.max_parallel_batches) == (2, 2)
    assert [t.source_table for t in store.load_table_configs("hourly", active_only=True)] == [
        "sales.customers",
        "sales.orders",
    ]


def test_uploaded_broken_example_leaves_tables_empty_and_a_report(s3: Any, dynamodb: Any) -> None:
    # Given the broken example in S3 / When its sample event is handled
    s3.put_object(
        Bucket=BUCKET, Key="config/broken.yaml", Body=sample_config_text("broken.yaml").encode()
    )
    loader = real_loader(s3, dynamodb, RecordingPublisher())
    app.lambda_handler(
        load_event("config_invalid_uploaded.json"), FakeLambdaContext(), loader=loader
    )
    # Then nothing was written, and the report sits beside the file
    assert dynamodb.scan(TableName=BATCH_TABLE)["Count"] == 0
    assert dynamodb.scan(TableName=TABLE_TABLE)["Count"] == 0
    report = s3.get_object(Bucket=BUCKET, Key="config/broken.yaml.rejected.txt")
    assert "9 problems" in report["Body"].read().decode()
