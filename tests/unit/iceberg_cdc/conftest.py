import pytest
from iceberg_cdc_fakes import Harness, StreamWriter, harness


@pytest.fixture
def cdc() -> Harness:
    """The function's collaborators over a fake Glue, an Athena running on DuckDB and a fake
    EventBridge, for the demo orders table."""
    return harness()


@pytest.fixture
def stream() -> StreamWriter:
    return StreamWriter()
