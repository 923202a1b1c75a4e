"""The engines behind SqlEngine: Spark's wiring (with a stand-in session) and DuckDB's staging."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from glue_merge_fakes import LocalBucket, table_config
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from cdc_merge.engine import SparkEngine, StagingFile, hadoop_literal_path
from cdc_merge.merge_sql import create_table_sql, replace_table_sql
from cdc_merge.table_spec import TableSpec
from dev.glue_merge.duckdb_engine import (
    DuckDbEngine,
    csv_problem,
    s3_download_resolver,
    spark_to_duckdb,
)

SPEC = TableSpec.from_dict(table_config("sales.orders"))


class FakeDataFrame:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def collect(self) -> list[tuple[Any, ...]]:
        return self.rows


class FakeCatalog:
    def __init__(self) -> None:
        self.dropped: list[str] = []

    def dropTempView(self, name: str) -> bool:  # pyspark spells it so
        self.dropped.append(name)
        return True


class FakeSpark:
    def __init__(self, rows: list[tuple[Any, ...]] | None = None) -> None:
        self.statements: list[str] = []
        self.catalog = FakeCatalog()
        self._rows = rows or []

    def sql(self, statement: str) -> FakeDataFrame:
        self.statements.append(statement)
        return FakeDataFrame(self._rows)


def test_spark_rows_come_back_as_tuples() -> None:
    engine = SparkEngine(FakeSpark(rows=[(1, 2, 3)]))
    assert engine.execute("SELECT 1, 2, 3") == [(1, 2, 3)]


def test_spark_materializes_a_view_by_caching_it_once() -> None:
    spark = FakeSpark()
    SparkEngine(spark).materialize_view("latest", "SELECT 1")
    assert spark.statements == [
        "UNCACHE TABLE IF EXISTS `latest`",
        "CACHE TABLE `latest` AS SELECT 1",
    ]
    assert spark.catalog.dropped == ["latest"]


def test_hadoop_glob_characters_in_keys_are_escaped() -> None:
    # Given a key with characters Hadoop would expand / Then they are read literally
    assert hadoop_literal_path("s3://b/t/a[1]{x}*?.csv") == r"s3://b/t/a\[1\]\{x\}\*\?.csv"
    assert hadoop_literal_path("s3://b/t/LOAD00000001.csv") == "s3://b/t/LOAD00000001.csv"


def test_iceberg_clauses_are_dropped_for_duckdb_and_nothing_else() -> None:
    # Given Spark DDL for an Iceberg table / When transpiled / Then DuckDB gets a plain table
    spec = TableSpec.from_dict(table_config("sales.orders", partition_by=["order_id"]))
    for statement in (
        create_table_sql(spec, "glue_catalog"),
        replace_table_sql(spec, "glue_catalog", "v"),
    ):
        duck = spark_to_duckdb(statement)
        assert "iceberg" not in duck.lower()
        assert "PARTITIONED" not in duck
        assert "format-version" not in duck
        assert '"glue_catalog"."sales"."orders"' in duck


@pytest.fixture
def bucket(tmp_path: Path) -> LocalBucket:
    return LocalBucket(tmp_path)


@pytest.fixture
def engine(bucket: LocalBucket) -> Iterator[DuckDbEngine]:
    with bucket.engine() as engine:
        yield engine


def staged(engine: DuckDbEngine) -> list[tuple[Any, ...]]:
    return engine.connection.execute(
        'SELECT * FROM "staged" ORDER BY "_cdc_file_order", "_cdc_row_in_file"'
    ).fetchall()


def test_duckdb_staging_numbers_files_and_rows_in_order(
    bucket: LocalBucket, engine: DuckDbEngine
) -> None:
    # Given a full-load file and a CDC file
    full = bucket.write_csv("sales.orders", "LOAD00000001.csv", [["2", "b", "1"], ["1", "a", "2"]])
    cdc = bucket.write_csv("sales.orders", "c.csv", [["D", "2026-11-23 10:00:00", "2", None, None]])
    files = [StagingFile(full.uri, "full", 0), StagingFile(cdc.uri, "cdc", 1)]
    # When staged
    engine.create_staging_view("staged", files, SPEC)
    # Then rows keep their file and row order; full-load rows are inserts with no sequence
    assert staged(engine) == [
        ("I", None, 0, 0, "2", "b", "1"),
        ("I", None, 0, 1, "1", "a", "2"),
        ("D", "2026-11-23 10:00:00", 1, 0, "2", None, None),
    ]


def test_duckdb_stages_an_empty_file_as_no_rows(bucket: LocalBucket, engine: DuckDbEngine) -> None:
    empty = bucket.write_csv("sales.orders", "c.csv", [])
    engine.create_staging_view("staged", [StagingFile(empty.uri, "cdc", 0)], SPEC)
    assert staged(engine) == []


def test_staging_nothing_is_refused(engine: DuckDbEngine) -> None:
    with pytest.raises(ValueError, match="no files"):
        engine.create_staging_view("staged", [], SPEC)


def test_s3_objects_are_downloaded_once_for_duckdb(tmp_path: Path) -> None:
    # Given an object in (moto) S3 whose key holds characters a URL parser would misread
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="staging")
        key = "sales/orders/a#b?c/../f.csv"
        s3.put_object(Bucket="staging", Key=key, Body=b"1,a,2\n")
        resolve = s3_download_resolver(s3, tmp_path)
        # When resolved twice
        local = resolve(f"s3://staging/{key}")
        s3.delete_object(Bucket="staging", Key=key)
        again = resolve(f"s3://staging/{key}")
    # Then the object is a local file inside the directory, fetched once
    assert local == again
    assert local.read_bytes() == b"1,a,2\n"
    assert local.is_relative_to(tmp_path)


def test_only_s3_uris_resolve(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="s3://"):
        s3_download_resolver(boto3.client("s3"), tmp_path)("/etc/passwd")


CSV_BYTES = st.lists(
    st.sampled_from([b"a", b",", b'"', b"\r", b"\n", b" ", b"\xc3", b"\xa9", b"\xe9"]), max_size=40
).map(b"".join)


@given(data=CSV_BYTES, cut=st.integers(1, 7))
def test_the_duckdb_file_scan_reads_chunks_as_one_file(data: bytes, cut: int) -> None:
    # Given a file's bytes / When scanned whole and in chunks of ``cut`` bytes
    chunks = [data[start : start + cut] for start in range(0, len(data), cut)]
    # Then both find the same problem (a quote, CR LF or UTF-8 sequence split at a chunk's end)
    assert csv_problem(chunks, 3) == csv_problem([data], 3)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'a,"x\r\ny",b\n', None),
        (b"a,b,c\n\na,b,c", None),
        (b'a,b,"c"\r\n', "CR LF row ends (a quote followed by CR LF)"),
        (b"a,b,\r\n", "a carriage return outside a quoted CR LF (CR LF row ends, or a lone CR)"),
        (
            b'a,"b\rc",d\n',
            "a carriage return outside a quoted CR LF (CR LF row ends, or a lone CR)",
        ),
        (b"a,b,c,\n", "a row of 4 fields, not 3"),
        (
            b'a,b,"c\n',
            "an unterminated quoted field (the file holds an odd number of quote characters)",
        ),
        (b"a,b,caf\xe9\n", "not valid UTF-8"),
    ],
)
def test_the_duckdb_file_scan_applies_sparks_file_rules(data: bytes, problem: str | None) -> None:
    assert csv_problem([data], 3) == problem
