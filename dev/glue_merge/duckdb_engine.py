# ruff: noqa: S608 - statements are built from quoted identifiers; file paths are parameters.
"""DuckDbEngine: the merge job's SqlEngine on DuckDB, for the local runtime and the tests.

Each statement the job generates (Spark SQL) is transpiled with sqlglot (read="spark",
write="duckdb") and run as is: what runs locally is the SQL that runs on Glue. Iceberg tables are
DuckDB tables in a database attached under the catalog's name (``glue_catalog.<database>.<table>``
resolves unchanged); staging views are temporary tables filled from local copies of the files.
"""

import codecs
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from cdc_merge.engine import (
    SqlEngine,
    StagingError,
    StagingFile,
    raw_file_problem,
)
from cdc_merge.errors import first_line
from cdc_merge.table_spec import (
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
)
from local_runtime.engines.athena.glue_types import quote_identifier as _quote
from local_runtime.engines.athena.glue_types import quote_literal as _literal
from local_runtime.lifecycle import Closeable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Iceberg-only table clauses that mean nothing to DuckDB: dropped, any other unsupported part of
# a statement is an error rather than silently lost.
_ICEBERG_ONLY_PROPERTIES: Final = (exp.FileFormatProperty, exp.PartitionedByProperty)
_FILE_TABLE: Final = "cdc_merge_file"
_CHUNK_BYTES: Final = 1 << 20


def spark_to_duckdb(sql: str) -> str:
    """One Spark SQL statement as DuckDB SQL."""
    tree = sqlglot.parse_one(sql, read="spark")
    for node in list(tree.find_all(exp.Property)):
        if isinstance(node, _ICEBERG_ONLY_PROPERTIES) or type(node) is exp.Property:
            node.pop()  # USING iceberg, PARTITIONED BY, TBLPROPERTIES
    return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)


class DuckDbEngine(SqlEngine, Closeable):
    """Runs the job's statements on one DuckDB connection.

    ``database`` is the file that holds the "Iceberg" tables (":memory:" for none), attached as
    ``catalog``; ``resolve_path`` maps a staging file's path (its s3:// URI) to a local file.
    """

    def __init__(
        self,
        database: str | Path = ":memory:",
        catalog: str = "glue_catalog",
        resolve_path: Callable[[str], str | Path] = lambda path: path,
    ) -> None:
        self.catalog = catalog
        self._resolve = resolve_path
        self.connection = duckdb.connect()
        self.statements: list[str] = []  # every statement run, as DuckDB SQL
        self.connection.execute(f"ATTACH {_literal(str(database))} AS {_quote(catalog)}")
        self.connection.execute(f"USE {_quote(catalog)}")
        self.connection.execute("SET TimeZone = 'UTC'")  # as the Spark session is

    def close(self) -> None:
        self.connection.close()

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return self._run(spark_to_duckdb(sql))

    def _run(self, sql: str, parameters: dict[str, object] | None = None) -> list[tuple[Any, ...]]:
        self.statements.append(sql)
        cursor = self.connection.execute(sql, parameters)
        return cursor.fetchall() if cursor.description else []

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        if not files:
            raise ValueError("no files to stage")
        self.drop_view(name)
        for position, file in enumerate(files):
            try:
                select, parameters = self._file_select(file, spec)
                if position == 0:
                    self._run(f"CREATE TEMP TABLE {_quote(name)} AS {select}", parameters)
                else:
                    self._run(f"INSERT INTO {_quote(name)} BY NAME {select}", parameters)
            except duckdb.Error as error:
                raise StagingError(_reader_error(error), file=file.path) from error
            except OSError as error:  # the file is not there
                reason = f"{type(error).__name__}: {error.strerror or error}"
                raise StagingError(reason, file=file.path) from error
        self._run(f"DROP TABLE IF EXISTS temp.{_quote(_FILE_TABLE)}")

    def _file_select(self, file: StagingFile, spec: TableSpec) -> tuple[str, dict[str, object]]:
        """A SELECT of one file's rows with the staging columns (loading it first for CSV)."""
        local = Path(self._resolve(file.path))
        parameters: dict[str, object] = {"path": str(local)}
        if spec.file_format == "csv":
            names = csv_field_names(spec, file.kind)
            problem = csv_problem(_file_chunks(local), len(names))
            if problem:
                raise StagingError(problem, file=file.path)
            columns = ", ".join(f"{_literal(f'c{i}')}: 'VARCHAR'" for i in range(len(names)))
            # As SparkEngine reads CSV (CSV_READER_OPTIONS): rows end at LF only, an unquoted
            # empty field is NULL and a quoted "" the empty string; strict about quotes.
            # A table keeps insertion order, so its rowid is the row's position in the file.
            self._run(
                f"CREATE OR REPLACE TEMP TABLE {_quote(_FILE_TABLE)} AS SELECT * FROM read_csv("
                f"$path, header = false, auto_detect = false, delim = ',', quote = '\"',"
                f" escape = '\"', new_line = '\\n', strict_mode = true,"
                f" allow_quoted_nulls = false, columns = {{{columns}}})",
                parameters,
            )
            parameters = {}
            fields = [f"{_quote(f'c{i}')} AS {_quote(n)}" for i, n in enumerate(names)]
            fields.append(f"rowid AS {_quote(ROW_IN_FILE_COLUMN)}")
            source = f"temp.{_quote(_FILE_TABLE)}"
        else:
            fields = [
                f"{_quote(source)} AS {_quote(target)}"
                for source, target in parquet_field_sources(spec, file.kind)
            ]
            fields.append(f"file_row_number AS {_quote(ROW_IN_FILE_COLUMN)}")
            source = "read_parquet($path, file_row_number = true)"
        fields.append(f"CAST({file.file_order} AS BIGINT) AS {_quote(FILE_ORDER_COLUMN)}")
        if file.kind == "full":
            fields.append(f"{_literal(INSERT_OP)} AS {_quote(OP_COLUMN)}")
            if not full_load_has_sequence(spec):
                fields.append(f"CAST(NULL AS VARCHAR) AS {_quote(SEQ_COLUMN)}")
        ordered = ", ".join(_quote(c) for c in (*STAGING_METADATA_COLUMNS, *spec.column_names))
        return f"SELECT {ordered} FROM (SELECT {', '.join(fields)} FROM {source})", parameters

    def materialize_view(self, name: str, select_sql: str) -> None:
        self.drop_view(name)
        self._run(f"CREATE TEMP TABLE {_quote(name)} AS {spark_to_duckdb(select_sql)}")

    def drop_view(self, name: str) -> None:
        self._run(f"DROP TABLE IF EXISTS temp.{_quote(name)}")

    def table_rows(self, database: str, table: str) -> list[tuple[Any, ...]]:
        """Every row of a target table (for tests and the local runtime's report)."""
        return self._run(f"SELECT * FROM {_quote(self.catalog)}.{_quote(database)}.{_quote(table)}")


_CSV_SPECIAL: Final = re.compile(rb'[",\r\n]')


class _CsvScan:
    """The file rules SparkEngine enforces (its strict reader, raw_file_problem, merge_sql's CR
    rule) where DuckDB's reader is lenient or loses what Spark keeps: it ignores trailing
    delimiters (``a,b,,`` reads as two fields) and reads an empty field before CR LF as NULL.

    One pass over the bytes, tracking quotes: every row (blank lines aside) has ``fields``
    fields; a CR stands only inside a quoted value, followed by LF.
    """

    def __init__(self, fields: int) -> None:
        self.fields = fields
        self.decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.valid_utf8 = True
        self.quotes = 0
        self.in_quotes = False
        self.row_fields = 1
        self.row_empty = True
        self.pending_cr = False  # a CR in a quoted value, waiting for its LF
        self.quote_crlf = 0  # quote, CR, LF in a row
        self.last = -1  # position of the last special byte
        self.recent: tuple[bytes, bytes] = (b"", b"")  # the two special bytes before it
        self.length = 0
        self.problems: list[str] = []

    def feed(self, chunk: bytes) -> None:
        if self.valid_utf8:
            try:
                self.decoder.decode(chunk)
            except UnicodeDecodeError:
                self.valid_utf8 = False
        for match in _CSV_SPECIAL.finditer(chunk):
            self._special(self.length + match.start(), match.group())
        self.length += len(chunk)

    def _special(self, position: int, byte: bytes) -> None:
        gap = position > self.last + 1  # other bytes came between
        adjacent = self.last == position - 1 and not gap
        if byte == b"\n" and adjacent and self.recent == (b'"', b"\r"):
            self.quote_crlf += 1
        self.recent = (self.recent[1], byte) if adjacent else (b"", byte)
        self.last = position
        if gap:
            self.row_empty = False
        if self.pending_cr and (gap or byte != b"\n"):
            self.problems.append(_LONE_CR)
        self.pending_cr = False
        if byte == b'"':
            self.quotes += 1
            self.in_quotes = not self.in_quotes
        elif self.in_quotes:
            self.pending_cr = byte == b"\r"
        elif byte == b"\r":
            self.problems.append(_LONE_CR)
        elif byte == b",":
            self.row_fields += 1
        else:
            self._row_end()
            return
        self.row_empty = False

    def _row_end(self) -> None:
        if not self.row_empty and self.row_fields != self.fields:
            self.problems.append(f"a row of {self.row_fields} fields, not {self.fields}")
        self.row_fields, self.row_empty = 1, True

    def problem(self) -> str | None:
        try:
            self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            self.valid_utf8 = False
        first = raw_file_problem(self.quotes, self.valid_utf8, self.quote_crlf)
        if first:
            return first
        if self.pending_cr:
            self.problems.append(_LONE_CR)
        if self.length > self.last + 1:
            self.row_empty = False
        self._row_end()
        return self.problems[0] if self.problems else None


_LONE_CR: Final = "a carriage return outside a quoted CR LF (CR LF row ends, or a lone CR)"


def csv_problem(chunks: Iterable[bytes], fields: int) -> str | None:
    """What is wrong with a CSV file's bytes (in chunks) under the rules both engines apply."""
    scan = _CsvScan(fields)
    for chunk in chunks:
        scan.feed(chunk)
    return scan.problem()


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            yield chunk


def _reader_error(error: duckdb.Error) -> str:
    """DuckDB's reader error in one line: its headline and what it found (not the row)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    found = next(
        (
            line
            for line in lines[1:4]
            if not line.startswith(("Original Line:", "Possible", "*", "LINE "))
        ),
        "",
    )
    return f"{first_line(str(error))} {found}".strip()


def s3_download_resolver(s3: "S3Client", directory: Path) -> Callable[[str], Path]:
    """resolve_path for DuckDbEngine: fetches ``s3://bucket/key`` into ``directory`` (once)."""

    def resolve(uri: str) -> Path:
        # Not urlsplit: a key may hold "?" or "#", which are not query or fragment here.
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket or not key:
            raise ValueError(f"not an s3:// object: {uri!r}")
        # bucket/key as a path under the directory, whatever the key holds ("..", "//").
        parts = [part for part in key.split("/") if part not in ("", ".", "..")]
        local = directory.joinpath(bucket, *parts)
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(local))
        return local

    return resolve
