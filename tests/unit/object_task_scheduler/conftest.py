import pytest
from object_task_scheduler_fakes import Fakes


@pytest.fixture
def fakes() -> Fakes:
    """Fake S3 (holding nothing yet), ledger and triggers."""
    return Fakes()
