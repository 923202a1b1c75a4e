"""The local runtime's pure parts: template translation, SQS batch semantics, EventBridge
target input, metric extraction. The deployed graph is covered in tests/integration."""

import json
from pathlib import Path

import pytest

from local_runtime.activity import emitted_metrics
from local_runtime.bridges.eventbridge import on_the_wire, target_input
from local_runtime.bridges.sqs import SqsEventSourceBridge, SqsMapping, lambda_record
from local_runtime.parameters import ParameterError
from local_runtime.report import table
from local_runtime.template import ARTIFACT_BUCKET, translate

ROOT = Path(__file__).resolve().parents[3]
MAPPING = SqsMapping(
    uuid="u",
    queue_arn="arn:aws:sqs:us-east-1:123456789012:q",
    queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q",
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
    batch_size=10,
    report_batch_item_failures=True,
)
MESSAGES = [
    {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "x"},
    {"MessageId": "m2", "ReceiptHandle": "r2", "Body": "{}", "MD5OfBody": "y"},
]


def failed(ok: bool, response: object, mapping: SqsMapping = MAPPING) -> set[str]:
    return SqsEventSourceBridge._failed_message_ids(ok, response, mapping, MESSAGES)  # type: ignore[arg-type]


def test_translation_maps_each_function_to_its_code_and_layer_folders() -> None:
    # Given the project's template
    # When it is translated offline
    translated = translate(ROOT / "template.yaml", {"Stage": "local"})

    # Then the function runs from its folder with the shared layer, and code points at placeholders
    source = translated.functions["FileTrackerFunction"]
    assert source.code_dir == ROOT / "functions" / "file_tracker"
    assert source.handler == "file_tracker.handler.lambda_handler"
    assert source.layer_dirs == (ROOT / "layers" / "shared",)
    code = translated.cloudformation["Resources"]["FileTrackerFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": ARTIFACT_BUCKET, "S3Key": "FileTrackerFunction.zip"}


def test_translation_turns_every_queue_and_stream_event_into_a_mapping_with_partial_failures() -> (
    None
):
    # Given the template translated as SAM does
    translated = translate(ROOT / "template.yaml", {"Stage": "local"})
    # When its event source mappings are listed
    mappings = translated.resources_of_type("AWS::Lambda::EventSourceMapping")
    # Then each queue and stream consumer reports partial batch failures
    assert len(mappings) >= 3
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # And each stream consumer bisects failing batches and keeps what it gives up on
    streams = {
        logical: m["Properties"]
        for logical, m in mappings.items()
        if "StartingPosition" in m["Properties"]
    }
    assert set(streams) == {"IcebergCdcSourceChanges", "ObjectRewriterExpiredTasks"}
    for stream in streams.values():
        assert stream["BisectBatchOnFunctionError"] is True
        assert "OnFailure" in stream["DestinationConfig"]
    # And the CDC changes of one shard are applied one batch at a time, in order
    assert streams["IcebergCdcSourceChanges"]["ParallelizationFactor"] == 1


def test_successful_batch_without_failures_deletes_every_message() -> None:
    assert failed(ok=True, response={"batchItemFailures": []}) == set()


def test_reported_failures_are_the_only_ones_kept() -> None:
    assert failed(ok=True, response={"batchItemFailures": [{"itemIdentifier": "m2"}]}) == {"m2"}


def test_function_error_keeps_the_whole_batch() -> None:
    assert failed(ok=False, response=None) == {"m1", "m2"}


@pytest.mark.parametrize(
    "failures",
    [[{"itemIdentifier": "unknown"}], [{"itemIdentifier": ""}], [{"other": "m1"}]],
)
def test_an_invalid_failure_report_keeps_the_whole_batch(failures: list[dict[str, str]]) -> None:
    # Lambda treats a malformed batchItemFailures response as a failure of every message
    assert failed(ok=True, response={"batchItemFailures": failures}) == {"m1", "m2"}


def test_failure_reports_are_ignored_without_report_batch_item_failures() -> None:
    mapping = SqsMapping(**{**MAPPING.__dict__, "report_batch_item_failures": False})
    assert failed(True, {"batchItemFailures": [{"itemIdentifier": "m1"}]}, mapping) == set()


def test_lambda_record_has_the_shape_lambda_delivers() -> None:
    message = {
        **MESSAGES[0],
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "cdc"}},
    }

    record = lambda_record(message, MAPPING.queue_arn, "us-east-1")  # type: ignore[arg-type]

    assert record["messageId"] == "m1"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == MAPPING.queue_arn
    assert record["attributes"] == {"ApproximateReceiveCount": "2"}
    assert record["messageAttributes"]["kind"]["stringValue"] == "cdc"


def test_target_input_is_the_event_without_input_settings() -> None:
    event = {"source": "aws.s3", "detail": {"bucket": {"name": "b"}}}

    assert target_input({"Arn": "a"}, event) == event


def test_target_input_honours_a_constant_input() -> None:
    event = {"source": "aws.s3"}

    assert target_input({"Arn": "a", "Input": '{"fixed": 1}'}, event) == {"fixed": 1}


def test_target_input_honours_input_path() -> None:
    event = {"source": "aws.s3", "detail": {"bucket": {"name": "b"}}}

    assert target_input({"Arn": "a", "InputPath": "$.detail.bucket"}, event) == {"name": "b"}


def test_events_leave_with_an_iso_time_as_eventbridge_sends_them() -> None:
    # moto keeps "time" as epoch seconds inside; targets must get ISO 8601
    assert on_the_wire({"time": "1795429200.0"})["time"] == "2026-11-23T10:20:00Z"
    assert on_the_wire({"time": "2026-11-23T10:20:00Z"})["time"] == "2026-11-23T10:20:00Z"


@pytest.mark.parametrize("response", ["not json", ["m1"], {"batchItemFailures": ["m1"]}])
def test_an_unreadable_response_keeps_the_whole_batch(response: object) -> None:
    assert failed(ok=True, response=response) == {"m1", "m2"}


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": None}])
def test_an_empty_response_is_a_full_success(response: object) -> None:
    assert failed(ok=True, response=response) == set()


def test_binary_message_attributes_are_base64_as_lambda_delivers_them() -> None:
    message = {
        **MESSAGES[0],
        "MessageAttributes": {"blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}},
    }

    record = lambda_record(message, MAPPING.queue_arn, "us-east-1")  # type: ignore[arg-type]

    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    json.dumps(record)  # what the runner does with every event


def test_emitted_metrics_sums_embedded_metric_format_lines() -> None:
    emf = {
        "_aws": {"CloudWatchMetrics": [{"Metrics": [{"Name": "FilesTracked"}]}]},
        "FilesTracked": [1.0, 1.0],
    }
    logs = "\n".join(['{"level": "INFO"}', json.dumps(emf), "not json", json.dumps(emf)])

    assert emitted_metrics(logs) == {"FilesTracked": 4}


def test_table_aligns_columns() -> None:
    text = table(["a", "bb"], [["xxx", 1]])

    assert text.splitlines() == ["  a    bb", "  ---  --", "  xxx  1"]


def test_parameters_outside_their_constraints_are_rejected_like_cloudformation() -> None:
    # Given values the template's constraints forbid
    bad = {"Stage": "BAD STAGE", "FileTrackerBatchSize": "0", "LogRetentionDays": "2"}

    # When the template is translated / Then every problem is named at once
    with pytest.raises(ParameterError) as raised:
        translate(ROOT / "template.yaml", bad)
    message = str(raised.value)
    assert "Stage='BAD STAGE' does not match" in message
    assert "FileTrackerBatchSize=0 is below MinValue 1" in message
    assert "LogRetentionDays='2' is not one of" in message


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ParameterError, match="Stagee is not a parameter"):
        translate(ROOT / "template.yaml", {"Stagee": "dev"})
