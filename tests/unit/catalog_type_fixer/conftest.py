import pytest
from catalog_type_fixer_fakes import (
    FakeCatalog,
    crawled_table,
    fixer_over,
    iceberg_table,
    parquet_table,
)

from catalog_type_fixer.service import CatalogTypeFixer


@pytest.fixture
def catalog() -> FakeCatalog:
    """crawled_db holding the crawled DynamoDB table, a Parquet table and an Iceberg table."""
    fake = FakeCatalog()
    for table in (crawled_table(), parquet_table(), iceberg_table()):
        fake.add(table)
    return fake


@pytest.fixture
def fixer(catalog: FakeCatalog) -> CatalogTypeFixer:
    return fixer_over(catalog)
