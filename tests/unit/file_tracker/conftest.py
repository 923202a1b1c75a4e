import pytest
from eventbridge_fake import FakeEventsClient
from file_tracker_fakes import FakeTrackerStore, tracker_with

from file_tracker.service import FileTracker


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
