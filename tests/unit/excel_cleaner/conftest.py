import pytest
from excel_cleaner_fakes import FakeEvents, FakeStore, FakeTopic, make_cleaner

from excel_cleaner.service import ExcelCleaner


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def topic() -> FakeTopic:
    return FakeTopic()


@pytest.fixture
def events() -> FakeEvents:
    return FakeEvents()


@pytest.fixture
def cleaner(store: FakeStore, topic: FakeTopic, events: FakeEvents) -> ExcelCleaner:
    """The real cleaner over the fakes, clean prefix "clean/", quarantine "quarantine/"."""
    return make_cleaner(store, topic, events)
