"""errors.summarize: what a table's history record keeps of a failure."""

from typing import Any

import pytest

from cdc_merge.engine import StagingError
from cdc_merge.errors import MAX_SUMMARY_CHARS, ErrorSummary, SummarizedError, summarize
from cdc_merge.job import InvalidDataError

JAVA_STACK = "\n".join(
    [
        "An error occurred while calling o1433.collectToPython.",
        ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 failed",
        *(f"\tat org.apache.spark.Frame{n}.run(Frame.scala:{n})" for n in range(300)),
        "Caused by: org.apache.spark.SparkRuntimeException: [MALFORMED_CSV_RECORD] Malformed",
        "\tat org.apache.spark.sql.catalyst.csv.UnivocityParser.parse(UnivocityParser.scala:1)",
    ]
)


class FakeThrowable:
    """A Java exception as py4j shows it."""

    def __init__(self, name: str, message: str | None, cause: "FakeThrowable | None" = None):
        self.name, self.message, self.cause = name, message, cause

    def getCause(self) -> "FakeThrowable | None":
        return self.cause

    def getClass(self) -> Any:
        return type("Class", (), {"getName": lambda _: self.name})()

    def getMessage(self) -> str | None:
        return self.message


class FakePy4JError(Exception):
    """Py4JJavaError's shape: the stack as text, the Java exception behind it."""

    def __init__(self, text: str, java_exception: Any) -> None:
        super().__init__(text)
        self.java_exception = java_exception


class GoneJvm:
    def getCause(self) -> None:
        raise ConnectionError("the JVM is gone")


def test_a_py4j_error_is_summed_up_by_its_java_root_cause() -> None:
    # Given a Py4J error whose Java exception has causes
    root = FakeThrowable("java.io.FileNotFoundException", "File x.csv does not exist\nmore")
    error = FakePy4JError(JAVA_STACK, FakeThrowable("org.apache.spark.SparkException", "Job", root))
    # When summarized / Then the kind and message are the root cause's, first line only
    assert summarize(error) == ErrorSummary(
        "java.io.FileNotFoundException", "File x.csv does not exist"
    )


def test_without_the_jvm_the_root_cause_is_read_from_the_printed_stack() -> None:
    error = FakePy4JError(JAVA_STACK, GoneJvm())
    assert summarize(error) == ErrorSummary(
        "org.apache.spark.SparkRuntimeException", "[MALFORMED_CSV_RECORD] Malformed"
    )


def test_a_staging_error_names_its_file_and_its_cause() -> None:
    # Given a Spark failure re-raised as the file it was reading
    cause = FakePy4JError(JAVA_STACK, GoneJvm())
    try:
        raise StagingError("Malformed", file="s3://b/k.csv") from cause
    except StagingError as error:
        summary = summarize(error)
    # Then the summary is the Java root cause, located at the file
    assert summary.text() == (
        "org.apache.spark.SparkRuntimeException: [MALFORMED_CSV_RECORD] Malformed"
        " [file: s3://b/k.csv]"
    )


def test_invalid_values_name_the_file_and_the_column() -> None:
    error = InvalidDataError("values that are not...", file="s3://b/k.csv", column="amount")
    assert summarize(error).text() == (
        "InvalidDataError: values that are not... [file: s3://b/k.csv] [column: amount]"
    )


def test_an_already_summarized_error_keeps_its_summary() -> None:
    summary = ErrorSummary("org.Boom", "boom", "s3://b/k.csv")
    assert summarize(SummarizedError(JAVA_STACK, summary)) is summary


@pytest.mark.parametrize("size", [10, 5_000, 100_000])
def test_a_summary_is_bounded_whatever_the_message(size: int) -> None:
    error = StagingError("x" * size, file="s3://b/" + "k" * size)
    assert len(summarize(error).text()) <= MAX_SUMMARY_CHARS


def test_a_plain_error_is_its_class_and_first_line() -> None:
    assert summarize(ConnectionError("dynamodb unreachable\ndetails")).text() == (
        "ConnectionError: dynamodb unreachable"
    )
