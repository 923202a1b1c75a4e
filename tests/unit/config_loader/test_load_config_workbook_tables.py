"""`python -m tools.load_config` keeps the workbook tables as the config loader does, reading
the database, bucket and owner from the loader function's environment."""

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from datalake_shared.pipeline_config import PipelineConfig
from tools import load_config

DATABASE = "lake"
LOADER_ENVIRONMENT = {
    "WORKBOOK_TABLE_DATABASE": DATABASE,
    "CLEAN_BUCKET": "clean",
    "WORKBOOK_UPLOAD_PREFIX": "incoming/",
    "WORKBOOK_TABLE_OWNER": "lake-stack",
}
ORDERS = {
    "name": "orders",
    "prefix": "incoming/orders/",
    "columns": [{"name": "region", "type": "string"}, {"name": "units", "type": "integer"}],
}


def config(tables: list[dict[str, Any]] | None) -> PipelineConfig:
    data: dict[str, Any] = {
        "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}]
    }
    if tables is not None:
        data["workbook_tables"] = tables
    return PipelineConfig.model_validate(data)


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    """moto: the loader function with the template's environment, and the lake database."""
    with mock_aws():
        role = boto3.client("iam").create_role(RoleName="loader", AssumeRolePolicyDocument="{}")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
        boto3.client("lambda").create_function(
            FunctionName="config-loader",
            Runtime="python3.13",
            Role=role["Role"]["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": buffer.getvalue()},
            Environment={"Variables": LOADER_ENVIRONMENT},
        )
        glue = boto3.client("glue")
        glue.create_database(DatabaseInput={"Name": DATABASE})
        yield {"lambda": boto3.client("lambda"), "glue": glue}


def reconcile(clients: dict[str, Any], tables: list[dict[str, Any]] | None) -> str:
    session = boto3.session.Session()
    loaded = config(tables)
    reconciler = load_config._workbook_reconciler(loaded, "config-loader", clients, session)
    return load_config._reconcile_workbook_tables(loaded, "config-loader", reconciler)


def test_the_listed_tables_are_made_as_the_loader_makes_them(clients: dict[str, Any]) -> None:
    # Given a file with the orders table / When applied with the stack
    text = reconcile(clients, [ORDERS])
    # Then the table exists, and the output says so
    names = [t["Name"] for t in clients["glue"].get_tables(DatabaseName=DATABASE)["TableList"]]
    assert names == ["workbook_orders"]
    assert text == "\nWorkbook tables in lake: created ['workbook_orders']."


def test_a_file_without_the_section_prints_nothing_about_them(clients: dict[str, Any]) -> None:
    assert reconcile(clients, None) == ""


def test_the_dry_run_lists_the_tables(tmp_path: Any) -> None:
    # Given a file with the section / When checked with --dry-run / Then it lists them
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "batches:\n  - {cadence: hourly, batch_size: 1, max_parallel_batches: 1}\n"
        "workbook_tables:\n  - {name: orders, prefix: incoming/orders/, "
        "columns: [{name: region, type: string}]}\n"
    )
    out = io.StringIO()
    assert load_config.main([str(path), "--dry-run"], out=out, err=io.StringIO()) == 0
    assert "orders  workbook_orders  incoming/orders/  1" in out.getvalue()
