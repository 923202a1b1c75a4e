"""The S3 adapter against moto, and the "Pipeline Metrics Written" entries it leads to."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from eventbridge_fake import FakeEventsClient
from moto import mock_aws
from pipeline_metrics_fakes import BUCKET, PREFIX, bodies, handle, load_event

from datalake_shared.event_publisher import EventPublisher
from pipeline_metrics.announcer import EventBridgeWrittenPublisher
from pipeline_metrics.csv_rows import decode_csv
from pipeline_metrics.service import MetricsWriteError, MetricsWriter
from pipeline_metrics.store import S3MetricsStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def s3_client() -> Iterator["S3Client"]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def moto_writer(client: "S3Client", events: FakeEventsClient) -> MetricsWriter:
    publisher = EventBridgeWrittenPublisher(
        EventPublisher("pipeline-metrics", "datalake-bus", client=events)  # type: ignore[arg-type]
    )
    return MetricsWriter(S3MetricsStore(BUCKET, client=client), publisher, PREFIX)


def test_object_is_stored_with_sse_content_type_and_the_csv(s3_client: "S3Client") -> None:
    # Given the store over a (moto) bucket
    store = S3MetricsStore(BUCKET, client=s3_client)
    # When a CSV is put
    store.put_csv("pipeline-metrics/dt=2026-11-22/x.csv", b'"event_id"\n"a"\n')
    # Then S3 holds it encrypted (SSE-S3), typed as UTF-8 CSV, byte for byte
    stored: Any = s3_client.get_object(Bucket=BUCKET, Key="pipeline-metrics/dt=2026-11-22/x.csv")
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["ContentType"] == "text/csv; charset=utf-8"
    assert stored["Body"].read() == b'"event_id"\n"a"\n'


def test_put_to_a_missing_bucket_raises_a_write_error(s3_client: "S3Client") -> None:
    # Given a store naming a bucket that does not exist
    store = S3MetricsStore("no-such-bucket", client=s3_client)
    # When a CSV is put / Then the failure is a MetricsWriteError naming S3's error
    with pytest.raises(MetricsWriteError, match="NoSuchBucket"):
        store.put_csv("pipeline-metrics/dt=2026-11-22/x.csv", b"")


def test_handler_writes_the_sample_batch_into_the_bucket(s3_client: "S3Client") -> None:
    # Given the handler writing through the real client into the (moto) bucket
    writer = moto_writer(s3_client, FakeEventsClient())
    # When the failed-execution sample is handled
    (response,) = handle(writer, load_event("execution_failed.json"))
    # Then the day's partition holds one object with the batch's rows
    listed = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}dt=2026-11-22/")
    (item,) = listed["Contents"]
    body = s3_client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    assert response == {"batchItemFailures": []}
    assert sorted(row["event_id"] for row in decode_csv(body)) == sorted(
        event["id"] for event in bodies("execution_failed.json")
    )


def test_client_is_created_on_first_use_only() -> None:
    # Given a store built without a client / Then none exists until a put needs it
    store = S3MetricsStore(BUCKET)
    assert "client" not in vars(store)
