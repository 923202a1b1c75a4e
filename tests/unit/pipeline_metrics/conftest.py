import pytest
from eventbridge_fake import FakeEventsClient
from pipeline_metrics_fakes import FakeS3Client, writer_with

from pipeline_metrics.service import MetricsWriter


@pytest.fixture
def s3() -> FakeS3Client:
    return FakeS3Client()


@pytest.fixture
def events() -> FakeEventsClient:
    return FakeEventsClient()


@pytest.fixture
def writer(s3: FakeS3Client, events: FakeEventsClient) -> MetricsWriter:
    """The real S3 store and "Pipeline Metrics Written" publisher over the fake clients."""
    return writer_with(s3, events)
