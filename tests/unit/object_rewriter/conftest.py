import pytest
from object_rewriter_fakes import (
    FakeLedger,
    FakeObjectStore,
    FakeTaskQueue,
    requeuer_over,
    rewriter_over,
)

from object_rewriter.fallback import FallbackRequeuer
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


@pytest.fixture
def queue() -> FakeTaskQueue:
    return FakeTaskQueue()


@pytest.fixture
def requeuer(ledger: FakeLedger, queue: FakeTaskQueue) -> FallbackRequeuer:
    """The real FallbackRequeuer over the fakes, its clock at NOW."""
    return requeuer_over(ledger, queue)
