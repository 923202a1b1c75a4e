"""`python -m tools.load_config` keeps the CDC stream mappings as the config loader does, with
the settings of the loader function's environment, and refuses a table outside the stack's
CdcSourceTablePattern before anything is written."""

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.pipeline_config import PipelineConfig
from tools import load_config

CONFIG_TABLE = "cdc-table-config"


def config(source_table: str) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}],
            "cdc_tables": [
                {
                    "source_table": source_table,
                    "target_table": "customers",
                    "key_columns": ["id"],
                    "columns": [{"name": "id", "type": "string"}],
                }
            ],
        }
    )


def _function(name: str, environment: dict[str, str]) -> str:
    role = boto3.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    arn: str = boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": environment},
    )["FunctionArn"]
    return arn


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    """moto: a streamed source table, the config table, iceberg_cdc, and the loader function
    with the template's CDC environment (pattern cdc-*)."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="cdc-customers",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        dynamodb.create_table(
            TableName=CONFIG_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "source_table", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "source_table", "KeyType": "HASH"}],
        )
        function = _function("iceberg-cdc", {})
        _function(
            "config-loader",
            {
                "CDC_TABLE_CONFIG_TABLE": CONFIG_TABLE,
                "CDC_FUNCTION_NAME": function,
                "CDC_SOURCE_TABLE_PATTERN": "cdc-*",
                "CDC_BATCH_SIZE": "250",
            },
        )
        yield {"lambda": boto3.client("lambda"), "dynamodb": dynamodb}


def apply(clients: dict[str, Any], source_table: str) -> str:
    session = boto3.session.Session()
    file = config(source_table)
    settings = load_config._cdc_settings(file, "config-loader", clients, session)
    reconciler = load_config._cdc_reconciler(settings, clients, session)
    return load_config._reconcile_cdc_tables(file, reconciler)


def test_the_tool_maps_the_files_tables_with_the_loaders_settings(
    clients: dict[str, Any],
) -> None:
    # Given a file naming cdc-customers / When the tool applies it
    text = apply(clients, "cdc-customers")
    # Then its stream is mapped with the loader's batch size, and the tool says so
    (mapping,) = clients["lambda"].list_event_source_mappings()["EventSourceMappings"]
    assert "table/cdc-customers/stream/" in mapping["EventSourceArn"]
    assert mapping["BatchSize"] == 250
    assert "CDC stream mappings: created ['cdc-customers']" in text


def test_a_table_outside_the_pattern_is_refused_before_anything_is_written(
    clients: dict[str, Any],
) -> None:
    # Given a file naming a table outside cdc-* / When the tool applies it / Then it refuses
    with pytest.raises(PipelineConfigError, match="CdcSourceTablePattern"):
        apply(clients, "prod-orders")
    # And nothing was mapped or stored
    assert clients["lambda"].list_event_source_mappings()["EventSourceMappings"] == []
    assert clients["dynamodb"].scan(TableName=CONFIG_TABLE)["Items"] == []
