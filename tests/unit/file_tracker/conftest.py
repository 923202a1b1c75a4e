import io
from collections.abc import Iterator

import pytest
from file_tracker_fakes import (
    CapturedLogs,
    FakeLambdaContext,
    FakePublisher,
    FakeTrackerStore,
    MetricsReader,
)
from file_tracker_settings import DEFAULT_STAGING_KEY_PATTERN
from file_tracking import FileTracker, KeyLayout

from datalake_shared.observability import logger


@pytest.fixture
def store() -> FakeTrackerStore:
    return FakeTrackerStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def tracker(store: FakeTrackerStore, publisher: FakePublisher) -> FileTracker:
    return FileTracker(KeyLayout("", DEFAULT_STAGING_KEY_PATTERN), store, publisher)


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
