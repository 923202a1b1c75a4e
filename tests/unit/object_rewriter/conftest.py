import pytest
from object_rewriter_fakes import FakeLedger, FakeObjectStore, rewriter_over

from object_rewriter.service import ObjectRewriter


@pytest.fixture
def store() -> FakeObjectStore:
    """A versioned bucket holding nothing yet."""
    return FakeObjectStore()


@pytest.fixture
def ledger() -> FakeLedger:
    return FakeLedger()


@pytest.fixture
def rewriter(store: FakeObjectStore, ledger: FakeLedger) -> ObjectRewriter:
    """The real ObjectRewriter over the fakes, its clock at NOW."""
    return rewriter_over(store, ledger)
