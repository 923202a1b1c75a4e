import pytest
from eventbridge_fake import RecordingPublisher
from excel_cleaner_fakes import FakeStore, FakeTopic, make_cleaner

from excel_cleaner.service import ExcelCleaner


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def topic() -> FakeTopic:
    return FakeTopic()


@pytest.fixture
def events() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def cleaner(store: FakeStore, topic: FakeTopic, events: RecordingPublisher) -> ExcelCleaner:
    """The real cleaner over the fakes, clean prefix "clean/", quarantine "quarantine/"."""
    return make_cleaner(store, topic, events)
