"""The cdc_tables reconciler on moto: entries stored, one stream mapping per active entry with
the template's settings, mappings of inactive entries deleted, the template's own mapping never
touched, and a second run changing nothing."""

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from datalake_shared.cdc_streams import (
    FUNCTION_RESPONSE_TYPES,
    MAXIMUM_BATCHING_WINDOW_SECONDS,
    MAXIMUM_RECORD_AGE_SECONDS,
    PARALLELIZATION_FACTOR,
    STARTING_POSITION,
    CdcSourceError,
    CdcStreamReconciler,
    CdcStreamSettings,
    MappingSettings,
    cdc_stream_reconciler,
)
from datalake_shared.cdc_tables import STACK_SOURCE, CdcTableStore
from datalake_shared.pipeline_config import PipelineConfig

CONFIG_TABLE = "cdc-table-config"
SOURCES = ("cdc-customers", "cdc-readings", "cdc-template")


def config(*entries: dict[str, Any]) -> PipelineConfig:
    return PipelineConfig.model_validate(
        {
            "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}],
            "cdc_tables": list(entries),
        }
    )


def entry(source: str, *, active: bool = True) -> dict[str, Any]:
    return {
        "source_table": source,
        "target_table": source.replace("cdc-", "").replace("-", "_"),
        "key_columns": ["id"],
        "columns": [{"name": "id", "type": "string"}],
        "active": active,
    }


def _zipped_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto with the source tables (streams on), the config table, the function and its queue;
    the "template" mapping already maps cdc-template's stream."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        streams: dict[str, str] = {}
        for name in SOURCES:
            streams[name] = dynamodb.create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )["TableDescription"]["LatestStreamArn"]
        dynamodb.create_table(
            TableName="cdc-no-stream",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        dynamodb.create_table(
            TableName=CONFIG_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "source_table", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "source_table", "KeyType": "HASH"}],
        )
        role = boto3.client("iam").create_role(
            RoleName="cdc-role", AssumeRolePolicyDocument="{}", Path="/"
        )["Role"]["Arn"]
        lambda_client = boto3.client("lambda")
        function = lambda_client.create_function(
            FunctionName="iceberg-cdc",
            Runtime="python3.13",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": _zipped_handler()},
        )["FunctionArn"]
        queue = boto3.client("sqs").create_queue(QueueName="cdc-failures")["QueueUrl"]
        queue_arn = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        template_mapping = lambda_client.create_event_source_mapping(
            EventSourceArn=streams["cdc-template"],
            FunctionName=function,
            StartingPosition="TRIM_HORIZON",
        )["UUID"]
        yield {
            "dynamodb": dynamodb,
            "lambda": lambda_client,
            "function": function,
            "queue_arn": queue_arn,
            "streams": streams,
            "template_mapping": template_mapping,
        }


def reconciler(aws: dict[str, Any], batch_size: int = 500) -> CdcStreamReconciler:
    settings = MappingSettings(
        function_name=aws["function"],
        failures_queue_arn=aws["queue_arn"],
        template_stream_arn=aws["streams"]["cdc-template"],
        batch_size=batch_size,
        maximum_retry_attempts=5,
    )
    store = CdcTableStore(CONFIG_TABLE, client=aws["dynamodb"])
    return CdcStreamReconciler(
        store, settings, dynamodb=aws["dynamodb"], lambda_client=aws["lambda"]
    )


def mappings(aws: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The function's mappings by source table."""
    listed = aws["lambda"].list_event_source_mappings()["EventSourceMappings"]
    return {m["EventSourceArn"].split("/")[1]: m for m in listed}


def test_each_active_entry_gets_a_mapping_with_the_templates_settings(
    aws: dict[str, Any],
) -> None:
    # Given a config with two CDC tables / When reconciled
    done = reconciler(aws).reconcile(config(entry("cdc-customers"), entry("cdc-readings")))
    # Then each has one mapping to the function, set as IcebergCdcSourceChanges is
    assert sorted(done.created) == ["cdc-customers", "cdc-readings"]
    found = mappings(aws)
    assert set(found) == {"cdc-customers", "cdc-readings", "cdc-template"}
    mapping = found["cdc-customers"]
    assert mapping["EventSourceArn"] == aws["streams"]["cdc-customers"]
    assert mapping["StartingPosition"] == STARTING_POSITION
    assert mapping["BatchSize"] == 500
    assert mapping["ParallelizationFactor"] == PARALLELIZATION_FACTOR
    assert mapping["MaximumBatchingWindowInSeconds"] == MAXIMUM_BATCHING_WINDOW_SECONDS
    assert mapping["MaximumRecordAgeInSeconds"] == MAXIMUM_RECORD_AGE_SECONDS
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == list(FUNCTION_RESPONSE_TYPES)
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == aws["queue_arn"]
    # And the entries are stored
    stored = CdcTableStore(CONFIG_TABLE, client=aws["dynamodb"]).load_all()
    assert [table.source_table for table in stored] == ["cdc-customers", "cdc-readings"]


def test_reconciling_the_same_config_again_changes_nothing(aws: dict[str, Any]) -> None:
    # Given a reconciled config
    file = config(entry("cdc-customers"), entry("cdc-readings"))
    reconciler(aws).reconcile(file)
    before = {name: m["UUID"] for name, m in mappings(aws).items()}
    # When the same config is reconciled again
    done = reconciler(aws).reconcile(file)
    # Then nothing is created, updated or removed
    assert not done.changed
    assert sorted(done.unchanged) == ["cdc-customers", "cdc-readings"]
    assert {name: m["UUID"] for name, m in mappings(aws).items()} == before


def test_an_inactive_entry_loses_its_mapping_and_the_others_keep_theirs(
    aws: dict[str, Any],
) -> None:
    # Given two mapped tables
    reconciler(aws).reconcile(config(entry("cdc-customers"), entry("cdc-readings")))
    kept = mappings(aws)["cdc-customers"]["UUID"]
    # When a config makes one inactive
    done = reconciler(aws).reconcile(config(entry("cdc-readings", active=False)))
    # Then its mapping is deleted; the entry the file leaves out stays mapped (as stored)
    assert done.removed == ("cdc-readings",)
    assert set(mappings(aws)) == {"cdc-customers", "cdc-template"}
    assert mappings(aws)["cdc-customers"]["UUID"] == kept


def test_the_templates_mapping_is_never_touched(aws: dict[str, Any]) -> None:
    # Given entries naming the template's table directly and through the stack alias
    file = config(entry("cdc-template"), entry(STACK_SOURCE) | {"target_table": "orders"})
    # When reconciled, even with other settings
    done = reconciler(aws, batch_size=42).reconcile(file)
    # Then the template's mapping is the only one of its stream, as CloudFormation made it
    assert not done.changed
    (mapping,) = mappings(aws).values()
    assert mapping["UUID"] == aws["template_mapping"]
    assert mapping["BatchSize"] != 42


def test_a_mapping_whose_settings_drifted_is_updated(aws: dict[str, Any]) -> None:
    # Given a mapped table whose mapping someone changed by hand
    reconciler(aws).reconcile(config(entry("cdc-customers")))
    uuid = mappings(aws)["cdc-customers"]["UUID"]
    aws["lambda"].update_event_source_mapping(UUID=uuid, BatchSize=7)
    # When reconciled
    done = reconciler(aws).reconcile(config(entry("cdc-customers")))
    # Then it is set back, in place
    assert done.updated == ("cdc-customers",)
    assert mappings(aws)["cdc-customers"]["BatchSize"] == 500
    assert mappings(aws)["cdc-customers"]["UUID"] == uuid


@pytest.mark.parametrize(
    ("source", "message"), [("cdc-missing", "does not exist"), ("cdc-no-stream", "no stream")]
)
def test_a_source_without_a_usable_stream_fails_the_load_saying_why(
    aws: dict[str, Any], source: str, message: str
) -> None:
    # Given an entry whose table is missing or has no stream / When reconciled / Then it says so
    with pytest.raises(CdcSourceError, match=message):
        reconciler(aws).reconcile(config(entry("cdc-customers"), entry(source)))
    # And nothing of the file was stored or mapped
    assert CdcTableStore(CONFIG_TABLE, client=aws["dynamodb"]).load_all() == []
    assert set(mappings(aws)) == {"cdc-template"}


def test_a_stored_table_deleted_since_loses_its_mapping_without_failing_the_load(
    aws: dict[str, Any],
) -> None:
    # Given two mapped tables, one of which is then deleted
    reconciler(aws).reconcile(config(entry("cdc-customers"), entry("cdc-readings")))
    aws["dynamodb"].delete_table(TableName="cdc-readings")
    # When a file that does not mention it is applied
    done = reconciler(aws).reconcile(config(entry("cdc-customers")))
    # Then its mapping is removed and the load goes on
    assert done.removed == ("cdc-readings",)
    assert set(mappings(aws)) == {"cdc-customers", "cdc-template"}


def test_a_loader_without_the_cdc_table_config_has_no_reconciler() -> None:
    # Given settings from an environment without CDC_TABLE_CONFIG_TABLE / Then no reconciler
    assert cdc_stream_reconciler(CdcStreamSettings.model_validate({})) is None


def test_the_mapping_settings_are_the_templates(sam_template: dict[str, Any]) -> None:
    # Given the template's own mapping and the config loader's environment
    resources = sam_template["Resources"]
    props = resources["IcebergCdcSourceChanges"]["Properties"]
    env = resources["ConfigLoaderFunction"]["Properties"]["Environment"]["Variables"]
    # Then the reconciler's fixed values are the mapping's, and its parameters reach the loader
    assert props["StartingPosition"] == STARTING_POSITION
    assert props["MaximumBatchingWindowInSeconds"] == MAXIMUM_BATCHING_WINDOW_SECONDS
    assert props["ParallelizationFactor"] == PARALLELIZATION_FACTOR
    assert props["MaximumRecordAgeInSeconds"] == MAXIMUM_RECORD_AGE_SECONDS
    assert props["FunctionResponseTypes"] == list(FUNCTION_RESPONSE_TYPES)
    assert props["BisectBatchOnFunctionError"] is True
    assert env["CDC_BATCH_SIZE"] == props["BatchSize"]
    assert env["CDC_MAXIMUM_RETRY_ATTEMPTS"] == props["MaximumRetryAttempts"]
    assert env["CDC_TEMPLATE_STREAM_ARN"] == props["EventSourceArn"]
    assert set(CdcStreamSettings.model_fields) <= {name.lower() for name in env}


def _mappings(aws: dict[str, Any]) -> list[dict[str, Any]]:
    listed = aws["lambda"].list_event_source_mappings(FunctionName=aws["function"])
    return [m for m in listed["EventSourceMappings"] if m["UUID"] != aws["template_mapping"]]


def test_key_columns_that_are_not_the_tables_key_are_a_problem_of_the_file(
    aws: dict[str, Any],
) -> None:
    # Given an entry naming a key the table does not have (it would merge distinct items)
    wrong = {**entry("cdc-customers"), "key_columns": ["customer_id"]}
    wrong["columns"] = [{"name": "customer_id", "type": "string"}]
    # When the file is checked
    problems = reconciler(aws).problems(config(wrong))
    # Then the problem names the table's real key, before anything is stored
    assert problems == [
        "cdc_tables: 'cdc-customers' has key_columns ['customer_id'], but the table's key is "
        "['id'] (hash, then range): list exactly those"
    ]


def test_a_table_without_a_stream_is_a_problem_of_the_file(aws: dict[str, Any]) -> None:
    problems = reconciler(aws).problems(config(entry("cdc-no-stream")))
    assert len(problems) == 1
    assert "has no stream" in problems[0]


def test_a_target_another_stored_entry_writes_is_a_problem_of_the_file(
    aws: dict[str, Any],
) -> None:
    # Given cdc-customers stored, writing "customers"
    reconciler(aws).reconcile(config(entry("cdc-customers")))
    # When another file maps cdc-readings to the same target
    clash = {**entry("cdc-readings"), "target_table": "customers"}
    problems = reconciler(aws).problems(config(clash))
    # Then the file is refused (two streams would MERGE into one table)
    assert problems == [
        "cdc_tables: 'cdc-readings' and the stored entry 'cdc-customers' would both write "
        "'customers'; set that entry active: false first"
    ]


def test_a_valid_file_has_no_problems(aws: dict[str, Any]) -> None:
    assert reconciler(aws).problems(config(entry("cdc-customers"), entry("cdc-readings"))) == []


def test_the_mapping_of_a_disabled_stream_is_kept_to_drain(aws: dict[str, Any]) -> None:
    # Given cdc-customers mapped, then its stream turned off (still readable for 24 h)
    reconciler(aws).reconcile(config(entry("cdc-customers")))
    [before] = _mappings(aws)
    aws["dynamodb"].update_table(
        TableName="cdc-customers", StreamSpecification={"StreamEnabled": False}
    )
    # When a file that does not mention it is loaded
    done = reconciler(aws).reconcile(config(entry("cdc-readings")))
    # Then its mapping stays, so the records it has not read yet are still applied
    assert "cdc-customers" not in done.removed
    assert before["UUID"] in {m["UUID"] for m in _mappings(aws)}
