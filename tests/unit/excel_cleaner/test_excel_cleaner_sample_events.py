"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from excel_cleaner_fakes import RAW_BUCKET, load_event
from lambda_support import sample_event_names

from datalake_shared.event_shapes import is_valid_unicode
from excel_cleaner.models import (
    MAX_MESSAGE_ID_CHARS,
    MalformedNotice,
    S3TestNotice,
    UploadedObject,
    parse_notices,
)

SAMPLES = sample_event_names("excel_cleaner")


def test_corpus_holds_the_documented_cases() -> None:
    assert set(SAMPLES) == {
        "uploaded.json",
        "several_records.json",
        "s3_test_event.json",
        "malformed_message.json",
    }


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_an_sns_event_lambda_receives(name: str) -> None:
    # Given a sample / Then each record has the SNS envelope Lambda delivers
    for record in load_event(name)["Records"]:
        assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
        sns = record["Sns"]
        assert sns["Type"] == "Notification"
        assert set(sns) >= {"MessageId", "TopicArn", "Message", "Timestamp", "Signature"}
        assert record["EventSubscriptionArn"].startswith(sns["TopicArn"] + ":")


@pytest.mark.parametrize("name", ["uploaded.json", "several_records.json"])
def test_upload_samples_carry_s3_event_notifications(name: str) -> None:
    # Given an upload sample / Then every SNS Message is an S3 notification, version 2.1
    for record in load_event(name)["Records"]:
        for s3_record in json.loads(record["Sns"]["Message"])["Records"]:
            assert (s3_record["eventVersion"], s3_record["eventSource"]) == ("2.1", "aws:s3")
            assert s3_record["eventName"] == "ObjectCreated:Put"
            assert set(s3_record["s3"]["object"]) == {
                "key",
                "size",
                "eTag",
                "versionId",
                "sequencer",
            }


def test_upload_sample_parses_to_its_object_with_the_key_decoded() -> None:
    [notice] = parse_notices(load_event("uploaded.json"))
    assert notice == UploadedObject(
        bucket=RAW_BUCKET,
        key="uploads/finance/Q3 sales report.xlsx",
        size=18342,
        etag="9b2cf535f27731c974343645a3985328",
        version_id="3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
        sequencer="0062F4A7B3C1D2E3F4",
        event_name="ObjectCreated:Put",
        event_time="2026-11-23T09:00:00.123Z",
        message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
    )


def test_several_records_sample_parses_to_three_objects() -> None:
    notices = parse_notices(load_event("several_records.json"))
    assert [n.key for n in notices if isinstance(n, UploadedObject)] == [
        "uploads/hr/headcount 2026.ods",
        "uploads/ops/inventory.xlsm",
        "uploads/ops/legacy stock.xls",
    ]


def test_test_event_sample_parses_to_a_test_notice() -> None:
    assert parse_notices(load_event("s3_test_event.json")) == [
        S3TestNotice("d3b5e1f4-8c6a-5b3d-ae9f-20bc4d5e6f70", RAW_BUCKET)
    ]


def test_malformed_sample_parses_to_a_malformed_notice() -> None:
    [notice] = parse_notices(load_event("malformed_message.json"))
    assert isinstance(notice, MalformedNotice)
    assert notice.message_id == "e4c6f205-9d7b-5c4e-bfa0-31cd5e6f7081"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({}, "the event has no 'Records' list"),
        ({"Records": [{"Sns": {"MessageId": "m"}}]}, "Records[0]: Sns.Message: Field required"),
        (
            {"Records": [{"EventSource": "aws:sqs", "Sns": {"MessageId": "m", "Message": "{}"}}]},
            "not an SNS record",
        ),
        (
            {"Records": [{"Sns": {"MessageId": "m", "Message": "[1]"}}]},
            "not a JSON object",
        ),
        (
            {"Records": [{"Sns": {"MessageId": "m", "Message": '{"Records": []}'}}]},
            "holds no S3 'Records'",
        ),
    ],
)
def test_malformed_events_become_notices_naming_the_problem(
    event: dict[str, object], error: str
) -> None:
    [notice] = parse_notices(event)
    assert isinstance(notice, MalformedNotice)
    assert error in notice.error


def test_an_overlong_message_id_makes_the_record_malformed_and_is_cut_short() -> None:
    # Given the sample upload whose SNS message id is 300,000 characters (SNS's are 36)
    event = load_event("uploaded.json")
    event["Records"][0]["Sns"]["MessageId"] = "m" * 300_000
    # When parsed / Then it is a malformed notice, naming an id short enough to echo anywhere
    [notice] = parse_notices(event)
    assert isinstance(notice, MalformedNotice)
    assert "MessageId" in notice.error
    assert notice.message_id == "m" * MAX_MESSAGE_ID_CHARS


def test_null_version_ids_of_unversioned_buckets_are_dropped() -> None:
    message = json.dumps(
        {
            "Records": [
                {
                    "eventName": "ObjectCreated:Put",
                    "s3": {
                        "bucket": {"name": "b"},
                        "object": {"key": "a%C3%A9+b.xlsx", "size": 1, "versionId": "null"},
                    },
                }
            ]
        }
    )
    [notice] = parse_notices({"Records": [{"Sns": {"MessageId": "m", "Message": message}}]})
    assert isinstance(notice, UploadedObject)
    assert (notice.key, notice.version_id) == ("aé b.xlsx", None)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda sns: sns.update(MessageId="m\ud800"), id="message-id"),
        pytest.param(
            lambda sns: sns.update(Message='{"Records": [{"s3": "\\ud800"}]}'), id="escaped"
        ),
        pytest.param(lambda sns: sns.update(Message="\ud800"), id="raw"),
    ],
)
def test_a_lone_surrogate_makes_the_record_malformed_with_printable_fields(
    damage: Callable[[dict[str, Any]], None],
) -> None:
    # Given the sample upload with a lone surrogate somewhere in its SNS record
    event = load_event("uploaded.json")
    damage(event["Records"][0]["Sns"])
    # When parsed / Then it is malformed, and what is echoed of it encodes as UTF-8
    [notice] = parse_notices(event)
    assert isinstance(notice, MalformedNotice)
    assert is_valid_unicode(notice.message_id or "")
    assert is_valid_unicode(notice.error)
