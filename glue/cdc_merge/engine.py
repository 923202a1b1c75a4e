"""The SQL engine the job talks to: Spark on Glue, DuckDB locally (dev/glue_merge/duckdb_engine.py).

The job only ever registers staging views from files, runs the statements of merge_sql, and
materializes one intermediate result; an engine is whatever does those four things.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Final, Protocol

from datalake_contracts.file_tracker_item import LoadType

from .errors import LocatedError, summarize
from .merge_sql import RAW_LINE_COLUMN, raw_file_checks_sql
from .table_spec import (
    FILE_ORDER_COLUMN,
    INSERT_OP,
    OP_COLUMN,
    ROW_IN_FILE_COLUMN,
    SEQ_COLUMN,
    STAGING_METADATA_COLUMNS,
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
    kind: LoadType
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


class StagingError(LocatedError):
    """A file the engine cannot stage: missing, not UTF-8, an unterminated quote, a malformed
    row. It fails its table, naming the file."""


NOT_UTF8: Final = "not valid UTF-8"
UNTERMINATED_QUOTE: Final = (
    "an unterminated quoted field (the file holds an odd number of quote characters)"
)
CRLF_AFTER_QUOTE: Final = "CR LF row ends (a quote followed by CR LF)"


def raw_file_problem(quote_count: int, valid_utf8: bool, quote_crlf: int = 0) -> str | None:
    """What is wrong with a CSV file's bytes, checked before its rows are read; both engines
    apply this rule (SparkEngine in SQL over the raw lines, DuckDbEngine in a pass over them).

    Every quote opens or closes a quoted field or is doubled inside one, so a well-formed file
    holds an even number; an odd one means a field left open, which Spark's reader silently
    runs to the end of the file and DuckDB's refuses. Rows end in LF: a CR right after a quote
    (``quote_crlf`` times a quote, CR, LF) is a CR LF row end that Spark's reader would skip.
    """
    if not valid_utf8:
        return NOT_UTF8
    if quote_count % 2:
        return UNTERMINATED_QUOTE
    if quote_crlf:
        return CRLF_AFTER_QUOTE
    return None


# Spark's CSV reader, set to read a DMS file as DuckDB's reader (dev/glue_merge/duckdb_engine.py)
# does: rows end at LF only (with row ends detected, a quoted CRLF inside a value made them CRLF);
# a quote inside a quoted value that is not doubled fails. nullValue None (a Java null) makes an
# unquoted empty field NULL and a quoted "" the empty string: Spark's default nullValue "" makes
# both NULL.
CSV_READER_OPTIONS: Final[dict[str, str | None]] = {
    "header": "false",
    "quote": '"',
    "escape": '"',
    "multiLine": "true",
    "mode": "FAILFAST",
    "lineSep": "\n",
    "nullValue": None,
    "unescapedQuoteHandling": "RAISE_ERROR",
}

_HADOOP_GLOB = re.compile(r"([\\{}\[\]*?])")


def hadoop_literal_path(path: str) -> str:
    """A path Spark reads as itself: Hadoop expands glob characters, so they are escaped."""
    return _HADOOP_GLOB.sub(r"\\\1", path)


_RAW_VIEW: Final = "cdc_merge_raw_lines"


class SparkEngine:
    """SqlEngine on a SparkSession whose catalog holds the Iceberg tables (Glue 5, Spark 3.5).

    Row positions. The latest change of a key is ordered by (sequence, file, row in file), and
    Spark 3.5 refuses a MERGE whose source holds a non-deterministic expression such as
    monotonically_increasing_id(), even behind CACHE TABLE (apache/iceberg#14585). Positions are
    therefore data, computed deterministically: Parquet files give ``_metadata.row_index``; a CSV
    file (multiLine: not splittable, one partition per file) is numbered by RDD.zipWithIndex on
    the JVM. Both are recomputed identically from the file if an executor is lost, where
    localCheckpoint's blocks would be gone with nothing to recompute them from. Measured on a
    1M-row, 79 MB CSV file (local[2]): reading it numbered by zipWithIndex ~3 s, as with
    monotonically_increasing_id; numbered through a Python RDD ~45 s.

    CSV files are read as DuckDbEngine reads them (CSV_READER_OPTIONS), after their bytes pass
    raw_file_problem; every value is then checked against its column's grammar (merge_sql).
    """

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        if not files:
            raise ValueError("no files to stage")
        self.drop_view(name)
        if spec.file_format == "csv":
            self._check_raw_files(files)
        frames = [(file, self._staged_file(file, spec)) for file in files]
        staged = reduce(lambda left, right: left.unionByName(right), (f for _, f in frames))
        # Read every file now, in one job: a file that cannot be read fails here, and is named.
        # (Not persisted: the job reads the view twice more, and persisting a 1M-row file cost
        # more than reading it again, ~5 s on local[2].)
        try:
            staged.count()
        except Exception:
            for file, frame in frames:
                try:
                    frame.count()
                except Exception as file_error:
                    raise StagingError(_headline(file_error), file=file.path) from file_error
            raise
        staged.createOrReplaceTempView(name)

    def _check_raw_files(self, files: Sequence[StagingFile]) -> None:
        from pyspark.sql import functions as F  # type: ignore[import-not-found]  # noqa: PLC0415

        lines = [
            self._reading(
                file, lambda path: self.spark.read.option("lineSep", "\n").text(path)
            ).select(
                F.lit(file.file_order).cast("bigint").alias(FILE_ORDER_COLUMN),
                F.col("value").alias(RAW_LINE_COLUMN),
            )
            for file in files
        ]
        reduce(lambda left, right: left.union(right), lines).createOrReplaceTempView(_RAW_VIEW)
        try:
            counts = {int(row[0]): row for row in self.execute(raw_file_checks_sql(_RAW_VIEW))}
        finally:
            self.spark.catalog.dropTempView(_RAW_VIEW)
        for file in files:
            _, quotes, not_utf8, quote_crlf = counts.get(file.file_order, (0, 0, 0, 0))
            problem = raw_file_problem(int(quotes), not int(not_utf8), int(quote_crlf))
            if problem:
                raise StagingError(problem, file=file.path)

    def _reading(self, file: StagingFile, read: Callable[[str], Any]) -> Any:
        """``read`` of the file's path; a file that is not there fails naming it."""
        try:
            return read(hadoop_literal_path(file.path))
        except Exception as error:
            raise StagingError(_headline(error), file=file.path) from error

    def _staged_file(self, file: StagingFile, spec: TableSpec) -> Any:
        from pyspark.sql import functions as F  # noqa: PLC0415

        if spec.file_format == "csv":
            names = csv_field_names(spec, file.kind)
            schema = ", ".join(f"_c{i} STRING" for i in range(len(names)))
            frame = self._reading(
                file,
                lambda path: self.spark.read.schema(schema).options(**CSV_READER_OPTIONS).csv(path),
            )
            frame = self._with_row_positions(frame).toDF(*names, ROW_IN_FILE_COLUMN)
        else:
            sources = parquet_field_sources(spec, file.kind)
            frame = self._reading(file, self.spark.read.parquet).select(
                *(F.col(quote_identifier(source)).alias(target) for source, target in sources),
                F.col("_metadata.row_index").alias(ROW_IN_FILE_COLUMN),
            )
        frame = frame.withColumn(FILE_ORDER_COLUMN, F.lit(file.file_order).cast("bigint"))
        if file.kind == "full":
            frame = frame.withColumn(OP_COLUMN, F.lit(INSERT_OP))
            if not full_load_has_sequence(spec):
                frame = frame.withColumn(SEQ_COLUMN, F.lit(None).cast("string"))
        ordered = (*STAGING_METADATA_COLUMNS, *spec.column_names)
        return frame.select(*(F.col(quote_identifier(column)) for column in ordered))

    def _with_row_positions(self, frame: Any) -> Any:
        """The frame's rows, each followed by its position (0, 1, ...), numbered on the JVM.

        RDD.zipWithIndex numbers a one-partition RDD without running a job; the rows never
        leave the JVM (a Python RDD would pickle every row through a Python worker).
        """
        from pyspark.sql import DataFrame  # noqa: PLC0415

        encoders = self.spark._jvm.org.apache.spark.sql.Encoders
        encoder = encoders.tuple(encoders.row(frame._jdf.schema()), encoders.LONG())
        numbered = self.spark._jsparkSession.createDataset(frame._jdf.rdd().zipWithIndex(), encoder)
        return DataFrame(numbered.toDF(), self.spark).selectExpr("_1.*", "_2")

    def materialize_view(self, name: str, select_sql: str) -> None:
        self.drop_view(name)
        self.spark.sql(f"CACHE TABLE {quote_identifier(name)} AS {select_sql}")

    def drop_view(self, name: str) -> None:
        self.spark.sql(f"UNCACHE TABLE IF EXISTS {quote_identifier(name)}")
        self.spark.catalog.dropTempView(name)


def _headline(error: BaseException) -> str:
    """The first line of the innermost cause of a (Spark) error."""
    return summarize(error).message
