"""What a query comes to, in Athena's terms: its outcome, its result columns, its error (the
StateChangeReason and AthenaError fields), and the Athena error a DuckDB or AWS error stands for."""

from dataclasses import dataclass
from typing import Final

import duckdb
from botocore.exceptions import ClientError

# AthenaError.ErrorCategory values (Athena error catalog)
SYSTEM_ERROR: Final = 1
USER_ERROR: Final = 2
# AthenaError.ErrorType values used here (Athena error catalog)
USER_ERROR_TYPE: Final = 1000
ICEBERG_ERROR_TYPE: Final = 233
INTERNAL_ERROR_TYPE: Final = 200
_S3_OPERATIONS: Final = frozenset({"GetObject", "ListObjectsV2", "ListObjects", "HeadObject"})


@dataclass(frozen=True)
class QueryError:
    """Why a query FAILED, in Athena's terms (StateChangeReason and AthenaError)."""

    code: str  # Trino/Athena error name, e.g. TABLE_NOT_FOUND
    message: str  # the StateChangeReason: "<code>: <detail>"
    category: int = USER_ERROR
    error_type: int = USER_ERROR_TYPE
    retryable: bool = False


class AthenaQueryError(Exception):
    """A query fails with an Athena error name and a detail."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        category: int = USER_ERROR,
        error_type: int = USER_ERROR_TYPE,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.error = QueryError(code, f"{code}: {detail}", category, error_type, retryable)


@dataclass(frozen=True)
class ResultColumn:
    """One column of a result set, as GetQueryResults' ColumnInfo describes it."""

    name: str
    type: str  # Athena type name: varchar, bigint, decimal, array, map, row...
    precision: int = 0
    scale: int = 0


@dataclass(frozen=True)
class QueryOutcome:
    state: str  # SUCCEEDED | FAILED
    statement_type: str  # DML | DDL | UTILITY (QueryExecution.StatementType)
    columns: tuple[ResultColumn, ...] = ()
    rows: tuple[tuple[str | None, ...], ...] = ()  # values as Athena prints them; None is NULL
    update_count: int | None = None  # rows inserted/updated/deleted by a DML statement
    error: QueryError | None = None
    duckdb_sql: str | None = None  # what ran on DuckDB, when something did
    engine_ms: int = 0

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"

    @property
    def state_change_reason(self) -> str | None:
        return self.error.message if self.error else None

    def result_rows(self) -> list[list[str | None]]:
        """The result set as GetQueryResults pages it: the header row first (SELECT only)."""
        if not self.columns:
            return []
        return [[column.name for column in self.columns], *(list(row) for row in self.rows)]

    def to_csv(self) -> str:
        """The results file Athena writes: every value quoted, NULL as an empty field."""
        lines = []
        for row in self.result_rows():
            fields = (
                "" if value is None else '"' + value.replace('"', '""') + '"' for value in row
            )
            lines.append(",".join(fields))
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class MaintenanceRun:
    """An OPTIMIZE or VACUUM the stand-in accepted (and had nothing to do for)."""

    statement: str  # OPTIMIZE | VACUUM
    database: str
    table: str
    sql: str


def failure_of(error: Exception) -> AthenaQueryError:
    """A DuckDB (or S3/Glue) error under the Athena (Trino) error name closest to it."""
    if isinstance(error, ClientError):
        failed = error.response.get("Error", {})
        code = (
            "HIVE_FILESYSTEM_ERROR"
            if error.operation_name in _S3_OPERATIONS
            else ("HIVE_METASTORE_ERROR")
        )
        return AthenaQueryError(
            code,
            f"{error.operation_name}: {failed.get('Code')}: {failed.get('Message')}",
            category=SYSTEM_ERROR,
            error_type=INTERNAL_ERROR_TYPE,
        )
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = message.lower()
    if isinstance(error, duckdb.TransactionException):
        # A write-write conflict: what an Iceberg commit conflict is on Athena.
        return AthenaQueryError(
            "ICEBERG_COMMIT_ERROR",
            message,
            category=SYSTEM_ERROR,
            error_type=ICEBERG_ERROR_TYPE,
            retryable=True,
        )
    if "merge into command cannot affect the same target row" in lowered:
        return AthenaQueryError(
            "MERGE_TARGET_ROW_MULTIPLE_MATCHES",
            "One MERGE target table row matched more than one source row",
        )
    if isinstance(error, duckdb.ParserException):
        code = "SYNTAX_ERROR"
    elif isinstance(error, duckdb.CatalogException):
        code = "FUNCTION_NOT_FOUND" if "function" in lowered else "TABLE_NOT_FOUND"
    elif isinstance(error, duckdb.BinderException):
        code = "COLUMN_NOT_FOUND" if "column" in lowered else "TYPE_MISMATCH"
    elif isinstance(error, duckdb.ConversionException):
        code = "INVALID_CAST_ARGUMENT"
    elif isinstance(error, duckdb.OutOfRangeException):
        code = "NUMERIC_VALUE_OUT_OF_RANGE"
    elif isinstance(error, duckdb.ConstraintException):
        code = "CONSTRAINT_VIOLATION"
    elif isinstance(error, duckdb.InvalidInputException):
        code = "INVALID_FUNCTION_ARGUMENT"
    else:
        return AthenaQueryError(
            "GENERIC_INTERNAL_ERROR",
            message,
            category=SYSTEM_ERROR,
            error_type=INTERNAL_ERROR_TYPE,
        )
    return AthenaQueryError(code, message)
