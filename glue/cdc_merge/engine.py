"""The SQL engine the job talks to: Spark on Glue, DuckDB locally (local_runtime/glue_duckdb.py).

The job only ever registers staging views from files, runs the statements of merge_sql, and
materializes one intermediate result; an engine is whatever does those four things.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Protocol

from .merge_sql import (
    FILE_ORDER_COLUMN,
    INSERT_OP,
    OP_COLUMN,
    ROW_IN_FILE_COLUMN,
    SEQ_COLUMN,
    STAGING_METADATA_COLUMNS,
    FileKind,
    TableSpec,
    csv_field_names,
    full_load_has_sequence,
    parquet_field_sources,
    quote_identifier,
)


@dataclass(frozen=True)
class StagingFile:
    """One file to stage: where it is, what kind it is, and its place in landing order."""

    path: str
    kind: FileKind
    file_order: int


class SqlEngine(Protocol):
    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        """Runs one Spark SQL statement and returns its rows (none for DDL and DML)."""
        ...

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        """Registers the files' rows as a temporary view with the staging columns (merge_sql)."""
        ...

    def materialize_view(self, name: str, select_sql: str) -> None:
        """Registers the query's result, computed once, as a temporary view."""
        ...

    def drop_view(self, name: str) -> None:
        """Forgets a temporary view (and its materialized rows); no error if there is none."""
        ...


_HADOOP_GLOB = re.compile(r"([\\{}\[\]*?])")


def hadoop_literal_path(path: str) -> str:
    """A path Spark reads as itself: Hadoop expands glob characters, so they are escaped."""
    return _HADOOP_GLOB.sub(r"\\\1", path)


class SparkEngine:
    """SqlEngine on a SparkSession whose catalog holds the Iceberg tables (Glue 5, Spark 3.5)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        if not files:
            raise ValueError("no files to stage")
        frames = [self._read(file, spec) for file in files]
        reduce(lambda left, right: left.unionByName(right), frames).createOrReplaceTempView(name)

    def _read(self, file: StagingFile, spec: TableSpec) -> Any:
        # pyspark exists on Glue, not necessarily where this module is imported.
        from pyspark.sql import functions as F  # type: ignore[import-not-found]  # noqa: PLC0415
        from pyspark.sql.types import (  # type: ignore[import-not-found]  # noqa: PLC0415
            StringType,
            StructField,
            StructType,
        )

        path = hadoop_literal_path(file.path)
        if spec.file_format == "csv":
            names = csv_field_names(spec, file.kind)
            schema = StructType(
                [StructField(f"_c{i}", StringType(), True) for i in range(len(names))]
            )
            # One file per read, multiLine (values may hold newlines): rows keep file order, so
            # monotonically_increasing_id, taken before any shuffle, orders the rows of the file.
            frame = (
                self.spark.read.schema(schema)
                .options(header="false", quote='"', escape='"', multiLine="true", mode="FAILFAST")
                .csv(path)
                .toDF(*names)
            )
        else:
            sources = parquet_field_sources(spec, file.kind)
            frame = self.spark.read.parquet(path).select(
                *(F.col(quote_identifier(source)).alias(target) for source, target in sources)
            )
        frame = frame.withColumn(ROW_IN_FILE_COLUMN, F.monotonically_increasing_id())
        frame = frame.withColumn(FILE_ORDER_COLUMN, F.lit(file.file_order).cast("bigint"))
        if file.kind == "full":
            frame = frame.withColumn(OP_COLUMN, F.lit(INSERT_OP))
            if not full_load_has_sequence(spec):
                frame = frame.withColumn(SEQ_COLUMN, F.lit(None).cast("string"))
        ordered = (*STAGING_METADATA_COLUMNS, *spec.column_names)
        return frame.select(*(F.col(quote_identifier(column)) for column in ordered))

    def materialize_view(self, name: str, select_sql: str) -> None:
        self.drop_view(name)
        self.spark.sql(f"CACHE TABLE {quote_identifier(name)} AS {select_sql}")

    def drop_view(self, name: str) -> None:
        self.spark.sql(f"UNCACHE TABLE IF EXISTS {quote_identifier(name)}")
        self.spark.catalog.dropTempView(name)
