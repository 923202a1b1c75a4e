import io
from collections.abc import Iterator

import pytest
from file_tracker_fakes import (
    CapturedLogs,
    FakeEventsClient,
    FakeLambdaContext,
    FakeTrackerStore,
    MetricsReader,
    tracker_with,
)
from file_tracking import FileTracker

from datalake_shared.observability import logger


@pytest.fixture
def store() -> FakeTrackerStore:
    return FakeTrackerStore()


@pytest.fixture
def events() -> FakeEventsClient:
    return FakeEventsClient()


@pytest.fixture
def tracker(store: FakeTrackerStore, events: FakeEventsClient) -> FileTracker:
    """The real "File Landed" publisher over a fake EventBridge client, and the fake store."""
    return tracker_with(store, events)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    """JSON log lines the shared Powertools logger writes during the test."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert hasattr(handler, "setStream")
    previous = handler.setStream(stream)
    yield CapturedLogs(stream)
    handler.setStream(previous)


@pytest.fixture
def emitted_metrics(capsys: pytest.CaptureFixture[str]) -> MetricsReader:
    return MetricsReader(capsys)
