"""The Glue job reading its batch's table configs (glue/cdc_merge/table_configs.py) with
BatchGetItem on DynamoDB Local, from items the config store wrote to the TableConfig table
exactly as template.yaml declares it."""

from collections.abc import Callable

import pytest
from boto_calls import CallRecorder
from mypy_boto3_dynamodb import DynamoDBClient

from cdc_merge.job import CONFIG_ERROR_KEY
from cdc_merge.table_configs import DynamoTableConfigs, with_table_configs
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import BatchConfig, PipelineConfig, TableConfig


@pytest.fixture
def tables(template_table: Callable[[str], str]) -> tuple[str, str]:
    return template_table("BatchConfigTable"), template_table("TableConfigTable")


def table(source_table: str, columns: int = 1) -> TableConfig:
    names = ["id"] + [f"{'c' * 250}{n:05d}" for n in range(columns - 1)]
    return TableConfig.model_validate(
        {
            "cadence": "hourly",
            "source_table": source_table,
            "target_database": "lake",
            "target_table": source_table.replace(".", "_"),
            "columns": [{"name": name, "type": "string"} for name in names],
            "primary_key": ["id"],
            "sequence_column": "change_ts",
        }
    )


def store_tables(dynamodb: DynamoDBClient, tables: tuple[str, str], *configs: TableConfig) -> None:
    batch = BatchConfig(cadence="hourly", batch_size=200, max_parallel_batches=1)
    PipelineConfigStore(*tables, client=dynamodb).apply(
        PipelineConfig(batches=[batch], tables=list(configs))
    )


def test_a_batchs_configs_come_back_in_the_order_asked(
    dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given 150 stored tables
    stored = [table(f"s.t{n:03d}") for n in range(150)]
    store_tables(dynamodb, tables, *stored)
    recorder = CallRecorder(dynamodb)
    asked = [t.source_table for t in reversed(stored)]
    # When the job reads them all
    configs = DynamoTableConfigs(tables[1], client=dynamodb).configs("hourly", asked)
    # Then it made one BatchGetItem per 100 keys, and each config is the one stored
    assert [
        len(c["RequestItems"][tables[1]]["Keys"]) for c in recorder.params_of("BatchGetItem")
    ] == [
        100,
        50,
    ]
    assert configs == [t.model_dump(mode="json") for t in reversed(stored)]


def test_a_table_without_a_config_fails_alone_with_the_reason(
    dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given one stored table
    store_tables(dynamodb, tables, table("sales.orders"))
    # When the job asks for it and for one removed since the run was planned
    batch = {"batch_id": "b", "run_id": "r", "cadence": "hourly", "tables": ["sales.orders", "x.y"]}
    resolved = with_table_configs(batch, DynamoTableConfigs(tables[1], client=dynamodb))
    # Then the first is its config and the second carries why it has none
    first, second = resolved["tables"]
    assert first["source_table"] == "sales.orders"
    assert second["source_table"] == "x.y"
    assert "no config for cadence 'hourly'" in second[CONFIG_ERROR_KEY]


def test_a_table_named_twice_is_read_once(
    dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given a stored table, named twice by a batch (BatchGetItem refuses duplicate keys)
    store_tables(dynamodb, tables, table("sales.orders"))
    # When the job reads the batch's configs / Then both entries get the config
    configs = DynamoTableConfigs(tables[1], client=dynamodb).configs(
        "hourly", ["sales.orders", "sales.orders"]
    )
    assert [c["source_table"] for c in configs] == ["sales.orders", "sales.orders"]


def test_a_name_too_long_for_a_key_fails_alone_and_the_others_are_read(
    dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given a stored table, and a hand-made batch that also names a table longer than a sort key
    store_tables(dynamodb, tables, table("sales.orders"))
    too_long = "s." + "t" * 1100
    # When the job reads the batch's configs
    configs = DynamoTableConfigs(tables[1], client=dynamodb).configs(
        "hourly", [too_long, "sales.orders"]
    )
    # Then DynamoDB is not asked for the impossible key: that table fails alone, the other loads
    assert CONFIG_ERROR_KEY in configs[0]
    assert configs[1]["source_table"] == "sales.orders"
    assert CONFIG_ERROR_KEY not in configs[1]
