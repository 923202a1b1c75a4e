"""What AWS would refuse of a workbook table after the file was applied is refused with the file
instead (moto checks no length): each limit is read from botocore's service model, and each
boundary tried. Glue: a column's comment. QuickSight: a dataset's input column name, its name,
and its custom SQL."""

from collections.abc import Iterator
from functools import cache
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws
from pydantic import ValidationError
from quicksight_fake import FakeQuickSight

from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.workbook_catalog import WorkbookTableSettings, workbook_table_reconciler
from datalake_shared.workbook_csv import WorkbookColumnType
from datalake_shared.workbook_datasets import (
    MAX_NAME,
    MAX_SQL_QUERY,
    dataset_name,
    input_columns,
    select_statement,
)
from datalake_shared.workbook_tables import MAX_COLUMN_NAME, WorkbookColumn, WorkbookTable

DATABASE = "lake"
ACCOUNT = "123456789012"


@cache
def aws_limit(service: str, shape: str, member: str, key: str = "max") -> Any:
    """A member's constraint in the botocore model shipped with the venv."""
    model = botocore.session.get_session().get_service_model(service)
    return model.shape_for(shape).members[member].metadata[key]


def table(name: str = "orders", prefix: str = "incoming/orders/", **more: Any) -> WorkbookTable:
    columns = more.pop("columns", [{"name": "region", "type": "string"}])
    return WorkbookTable.model_validate({"name": name, "prefix": prefix, "columns": columns})


# ------------------------------------------------------------------------------ columns


def test_the_column_name_cap_is_quicksights_input_column_limit() -> None:
    assert aws_limit("quicksight", "InputColumn", "Name") == MAX_COLUMN_NAME
    # (Glue's own limit is wider: the dataset's is the one that binds)
    assert aws_limit("glue", "Column", "Name") >= MAX_COLUMN_NAME


def test_a_column_name_of_the_limit_is_taken_and_one_longer_refused() -> None:
    longest = "c" * MAX_COLUMN_NAME
    assert WorkbookColumn.model_validate({"name": longest, "type": "string"}).name == longest
    with pytest.raises(ValidationError, match=f"at most {MAX_COLUMN_NAME} characters"):
        WorkbookColumn.model_validate({"name": f"{longest}c", "type": "string"})


@pytest.mark.parametrize("kind", list(WorkbookColumnType))
def test_a_columns_comment_fits_glues_limit_with_the_longest_name(kind: WorkbookColumnType) -> None:
    column = WorkbookColumn.model_validate({"name": "c" * MAX_COLUMN_NAME, "type": kind})
    assert len(column.comment) <= aws_limit("glue", "Column", "Comment")


# ------------------------------------------------------------------------------ the dataset


def test_the_dataset_name_limit_is_quicksights() -> None:
    assert aws_limit("quicksight", "CreateDataSetRequest", "Name") == MAX_NAME


def test_a_dataset_name_within_the_limit_is_the_table_and_its_prefix() -> None:
    # Given a prefix that makes the name exactly the limit
    fixed = len("orders (workbooks under )")
    prefix = "incoming/" + "p" * (MAX_NAME - fixed - len("incoming//")) + "/"
    name = dataset_name(table(prefix=prefix))
    # Then it is whole
    assert (len(name), name) == (MAX_NAME, f"orders (workbooks under {prefix})")


def test_a_longer_dataset_name_keeps_the_table_and_the_end_of_its_prefix() -> None:
    # Given the longest table name over a long prefix
    long_name = "t" * 63
    prefix = "incoming/" + "a" * 200 + "/" + "emea/"
    # When the dataset is named / Then it is cut to the limit, from the prefix's front
    name = dataset_name(table(name=long_name, prefix=prefix))
    assert len(name) == MAX_NAME
    assert name.startswith(f"{long_name} (workbooks under …")
    assert name.endswith("a/emea/)")


def test_a_number_column_is_a_floating_decimal_as_the_model_allows() -> None:
    # Given the model's InputColumn SubType / Then a number column is sent as FLOAT
    assert "FLOAT" in aws_limit("quicksight", "InputColumn", "SubType", "enum")
    columns = table(columns=[{"name": "n", "type": "number"}, {"name": "i", "type": "integer"}])
    assert input_columns(columns) == [
        {"Name": "n", "Type": "DECIMAL", "SubType": "FLOAT"},
        {"Name": "i", "Type": "INTEGER"},
    ]


def test_the_query_limit_is_quicksights() -> None:
    assert aws_limit("quicksight", "CustomSql", "SqlQuery") == MAX_SQL_QUERY


def select_length(columns: list[dict[str, str]]) -> int:
    return len(select_statement(table("wide", columns=columns), DATABASE))


def wide_table(query_length: int) -> dict[str, Any]:
    """A table ``wide`` whose dataset query on DATABASE is exactly ``query_length`` long:
    date-time columns (the longest selects), then string ones to make up the rest."""
    around = select_length([{"name": "a", "type": "string"}]) - len('"a"')  # SELECT, FROM
    columns: list[dict[str, str]] = []
    length = around - len(", ")

    def add(kind: str, name_length: int) -> None:
        nonlocal length
        prefix = f"c{len(columns):04d}_"
        column = {"name": prefix + "x" * (name_length - len(prefix)), "type": kind}
        columns.append(column)
        length += select_length([column]) - around + len(", ")

    while query_length - length > 5 * (MAX_COLUMN_NAME + 4) + 2 * MAX_COLUMN_NAME + 63:
        add("datetime", MAX_COLUMN_NAME)
    while query_length - length > 2 * (MAX_COLUMN_NAME + 4):  # a string column: quotes, ", "
        add("string", MAX_COLUMN_NAME)
    add("string", (query_length - length) // 2 - 4)
    add("string", query_length - length - 4)
    assert select_length(columns) == query_length
    return {"name": "wide", "prefix": "incoming/wide/", "columns": columns}


@pytest.fixture
def glue() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("glue", region_name="eu-west-1")
        client.create_database(DatabaseInput={"Name": DATABASE})
        yield client


@pytest.mark.parametrize(("length", "refused"), [(MAX_SQL_QUERY, False), (MAX_SQL_QUERY + 1, True)])
def test_a_dataset_query_over_quicksights_limit_is_a_problem(
    glue: Any, length: int, refused: bool
) -> None:
    # Given QuickSight on, and a table whose dataset query has this length
    settings = WorkbookTableSettings.model_validate(
        {
            "WORKBOOK_TABLE_DATABASE": DATABASE,
            "CLEAN_BUCKET": "clean",
            "WORKBOOK_UPLOAD_PREFIX": "incoming/",
            "WORKBOOK_TABLE_OWNER": "lake-stack",
            "QUICKSIGHT_DATA_SOURCE_ARN": f"arn:aws:quicksight:eu-west-1:{ACCOUNT}:datasource/d",
            "QUICKSIGHT_PRINCIPAL_ARN": f"arn:aws:quicksight:eu-west-1:{ACCOUNT}:user/default/a",
        }
    )
    reconciler = workbook_table_reconciler(settings, glue, FakeQuickSight(ACCOUNT))
    assert reconciler is not None
    config = PipelineConfig.model_validate(
        {
            "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}],
            "workbook_tables": [wide_table(length)],
        }
    )
    # When the file is checked / Then only the longer query is refused, before anything is made
    problems = reconciler.problems(config)
    expected = ["workbook_tables[0].columns"] if refused else []
    assert [problem.split(":")[0] for problem in problems] == expected
    assert not glue.get_tables(DatabaseName=DATABASE)["TableList"]
