"""The boto3 adapters against moto, and the handler end to end over them (S3, SNS, EventBridge)."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from excel_cleaner_books import SALES_REPORT_CSV, password_protected_xlsx, sales_report_xlsx
from excel_cleaner_fakes import CLEAN_BUCKET, RAW_BUCKET, app, uploaded
from lambda_support import FakeLambdaContext
from moto import mock_aws

from datalake_shared.event_publisher import EventPublisher
from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError
from excel_cleaner.adapters import S3WorkbookStore, SnsResultTopic
from excel_cleaner.service import COMPONENT, CleanerConfig, ExcelCleaner

BUS = "datalake-bus"


@pytest.fixture(scope="module")
def _moto() -> Iterator[Any]:
    """One moto session for the module (starting one costs ~0.3 s): S3 with a versioned raw
    bucket and the clean bucket. Each test gets the buckets empty (see ``s3``)."""
    with mock_aws():
        client = boto3.client("s3")
        for bucket in (RAW_BUCKET, CLEAN_BUCKET):
            client.create_bucket(Bucket=bucket)
        client.put_bucket_versioning(
            Bucket=RAW_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        yield client


@pytest.fixture
def s3(_moto: Any) -> Iterator[Any]:
    yield _moto
    for bucket in (RAW_BUCKET, CLEAN_BUCKET):
        listing = _moto.list_object_versions(Bucket=bucket)
        for entry in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
            _moto.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])


def _queue_arn(sqs: Any, url: str) -> str:
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn


@pytest.fixture
def aws(s3: Any) -> dict[str, Any]:
    """Beside moto S3: the result topic with two SQS subscribers (everything / "failed" only,
    by filter policy) and an EventBridge bus whose rule sends the cleaner's events to a queue."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    suffix = uuid.uuid4().hex[:8]  # the moto session is shared by the module's tests
    topic_arn = sns.create_topic(Name=f"excel-results-{suffix}")["TopicArn"]
    queues: dict[str, str] = {}
    for name, policy in (("all", None), ("failed", {"outcome": ["failed"]})):
        url = sqs.create_queue(QueueName=f"results-{name}-{suffix}")["QueueUrl"]
        attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=_queue_arn(sqs, url),
            Attributes=attributes,
        )
        queues[name] = url
    events = boto3.client("events")
    bus = f"{BUS}-{suffix}"
    events.create_event_bus(Name=bus)
    events_url = sqs.create_queue(QueueName=f"bus-events-{suffix}")["QueueUrl"]
    events.put_rule(
        Name="cleaner",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [f"datalake-events.{COMPONENT}"]}),
    )
    events.put_targets(
        Rule="cleaner",
        EventBusName=bus,
        Targets=[{"Id": "q", "Arn": _queue_arn(sqs, events_url)}],
    )
    return {
        "s3": s3,
        "sns": sns,
        "events": events,
        "sqs": sqs,
        "topic_arn": topic_arn,
        "queues": queues,
        "events_queue": events_url,
        "bus": bus,
    }


@pytest.fixture
def s3_store(s3: Any) -> S3WorkbookStore:
    return S3WorkbookStore(client=s3)


@pytest.fixture
def real_cleaner(aws: dict[str, Any]) -> ExcelCleaner:
    """The cleaner over the real adapters, talking to moto."""
    return ExcelCleaner(
        CleanerConfig(clean_bucket=CLEAN_BUCKET),
        S3WorkbookStore(client=aws["s3"]),
        SnsResultTopic(aws["topic_arn"], client=aws["sns"]),
        EventPublisher(component=COMPONENT, bus_name=aws["bus"], client=aws["events"]),
    )


def received(aws: dict[str, Any], queue: str) -> list[dict[str, Any]]:
    """The SNS notifications a subscriber queue got."""
    response = aws["sqs"].receive_message(QueueUrl=aws["queues"][queue], MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def bus_events(aws: dict[str, Any]) -> list[dict[str, Any]]:
    response = aws["sqs"].receive_message(QueueUrl=aws["events_queue"], MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


# ------------------------------------------------------------------------------ adapters


def test_read_returns_the_content_its_version_and_etag(s3: Any, s3_store: S3WorkbookStore) -> None:
    put = s3.put_object(Bucket=RAW_BUCKET, Key="a.xlsx", Body=b"PK-data")
    source = s3_store.read(RAW_BUCKET, "a.xlsx", max_bytes=100)
    assert (source.body, source.version_id) == (b"PK-data", put["VersionId"])
    assert source.etag == put["ETag"].strip('"')


def test_read_of_a_deleted_object_says_it_is_missing(s3_store: S3WorkbookStore) -> None:
    with pytest.raises(ObjectMissingError):
        s3_store.read(RAW_BUCKET, "gone.xlsx", max_bytes=100)


def test_read_refuses_objects_over_the_limit(s3: Any, s3_store: S3WorkbookStore) -> None:
    s3.put_object(Bucket=RAW_BUCKET, Key="big.xlsx", Body=b"x" * 200)
    with pytest.raises(ObjectTooLargeError) as raised:
        s3_store.read(RAW_BUCKET, "big.xlsx", max_bytes=100)
    assert raised.value.size == 200


@pytest.mark.parametrize(
    ("body", "document"),
    [(b'{"outputs": []}', {"outputs": []}), (b"not json", None), (b"[1, 2]", None)],
)
def test_read_json_returns_objects_only(
    s3: Any, s3_store: S3WorkbookStore, body: bytes, document: object
) -> None:
    s3.put_object(Bucket=CLEAN_BUCKET, Key="m.json", Body=body)
    assert s3_store.read_json(CLEAN_BUCKET, "m.json") == document


def test_read_json_of_a_missing_object_is_none(s3_store: S3WorkbookStore) -> None:
    assert s3_store.read_json(CLEAN_BUCKET, "none.json") is None


def test_copy_quarantines_the_given_version_with_the_reason(
    s3: Any, s3_store: S3WorkbookStore
) -> None:
    # Given two versions of a raw object
    first = s3.put_object(Bucket=RAW_BUCKET, Key="a.xlsx", Body=b"first")
    s3.put_object(Bucket=RAW_BUCKET, Key="a.xlsx", Body=b"second")
    # When the first is copied to quarantine
    s3_store.copy(
        RAW_BUCKET,
        "a.xlsx",
        source_version=first["VersionId"],
        bucket=CLEAN_BUCKET,
        key="quarantine/a.xlsx",
        metadata={"quarantine-reason": "corrupt"},
    )
    # Then the copy holds that version and the reason; the raw object is unchanged
    copied = s3.get_object(Bucket=CLEAN_BUCKET, Key="quarantine/a.xlsx")
    assert (copied["Body"].read(), copied["Metadata"]) == (
        b"first",
        {"quarantine-reason": "corrupt"},
    )
    raw = s3.get_object(Bucket=RAW_BUCKET, Key="a.xlsx")
    assert raw["Body"].read() == b"second"


def test_put_and_delete(s3: Any, s3_store: S3WorkbookStore) -> None:
    s3_store.put(CLEAN_BUCKET, "clean/a/x.csv", b"a\n1\n", "text/csv; charset=utf-8")
    s3_store.put(CLEAN_BUCKET, "clean/a/y.csv", b"b\n2\n", "text/csv; charset=utf-8")
    head = s3.head_object(Bucket=CLEAN_BUCKET, Key="clean/a/x.csv")
    assert head["ContentType"] == "text/csv; charset=utf-8"
    s3_store.delete(CLEAN_BUCKET, ["clean/a/x.csv", "clean/a/y.csv"])
    assert s3.list_objects_v2(Bucket=CLEAN_BUCKET)["KeyCount"] == 0


def test_results_carry_an_outcome_attribute_subscribers_filter_on(aws: dict[str, Any]) -> None:
    # Given a subscriber of everything and one of "failed" only
    topic = SnsResultTopic(aws["topic_arn"], client=aws["sns"])
    # When a cleaned and a failed result are published
    topic.publish("cleaned", "Workbook cleaned: a.xlsx (1 sheet)", {"outcome": "cleaned"})
    topic.publish("failed", "Workbook failed: b.xlsx (corrupt)", {"outcome": "failed", "k": "é"})
    # Then the first gets both, with the attribute and subject; the second only the failure
    everything = received(aws, "all")
    assert [m["MessageAttributes"]["outcome"]["Value"] for m in everything] == [
        "cleaned",
        "failed",
    ]
    assert everything[0]["Subject"] == "Workbook cleaned: a.xlsx (1 sheet)"
    [failed] = received(aws, "failed")
    assert json.loads(failed["Message"]) == {"outcome": "failed", "k": "é"}


def test_clients_are_built_on_first_use_only() -> None:
    assert "client" not in vars(S3WorkbookStore())
    assert "client" not in vars(SnsResultTopic("arn:aws:sns:us-east-1:1:t"))


# ------------------------------------------------------------------------------ end to end


def test_upload_is_cleaned_end_to_end(aws: dict[str, Any], real_cleaner: ExcelCleaner) -> None:
    # Given a messy workbook uploaded to the raw bucket
    key = "uploads/finance/Q3 sales.xlsx"
    body = sales_report_xlsx()
    put = aws["s3"].put_object(Bucket=RAW_BUCKET, Key=key, Body=body)
    event = uploaded(key, len(body), version_id=put["VersionId"])
    # When the Lambda handles its notification
    response = app.lambda_handler(event, FakeLambdaContext(), cleaner=real_cleaner)
    # Then the CSV and the manifest are in the clean bucket...
    assert response["results"][0]["outcome"] == "cleaned"
    folder = "clean/uploads/finance/Q3 sales/"
    csv = aws["s3"].get_object(Bucket=CLEAN_BUCKET, Key=f"{folder}q3_sales.csv")
    assert csv["Body"].read().decode() == SALES_REPORT_CSV
    manifest = aws["s3"].get_object(Bucket=CLEAN_BUCKET, Key=f"{folder}_manifest.json")
    assert json.loads(manifest["Body"].read())["source"]["version_id"] == put["VersionId"]
    # ...the result topic says "cleaned" with the counts, and EventBridge has the event
    [note] = received(aws, "all")
    message = json.loads(note["Message"])
    assert (message["outputs"][0]["rows"], message["outputs"][0]["columns"]) == (4, 8)
    assert received(aws, "failed") == []
    [event_seen] = bus_events(aws)
    assert event_seen["detail-type"] == "Workbook Cleaned"


def test_bad_upload_is_quarantined_end_to_end(
    aws: dict[str, Any], real_cleaner: ExcelCleaner
) -> None:
    # Given a password-protected workbook uploaded
    key = "uploads/secret.xlsx"
    body = password_protected_xlsx()
    put = aws["s3"].put_object(Bucket=RAW_BUCKET, Key=key, Body=body)
    # When handled / Then no exception (Lambda does not retry)...
    app.lambda_handler(
        uploaded(key, len(body), version_id=put["VersionId"]),
        FakeLambdaContext(),
        cleaner=real_cleaner,
    )
    # ...a copy is in quarantine with its reason, the raw object still where it was
    copy = aws["s3"].get_object(Bucket=CLEAN_BUCKET, Key=f"quarantine/{key}")
    assert copy["Body"].read() == body
    assert copy["Metadata"]["quarantine-reason"] == "encrypted"
    assert aws["s3"].get_object(Bucket=RAW_BUCKET, Key=key)["Body"].read() == body
    # ...and the "failed" subscriber is told why
    [note] = received(aws, "failed")
    assert json.loads(note["Message"])["reason"] == "encrypted"
    assert [e["detail-type"] for e in bus_events(aws)] == ["Workbook Failed"]
