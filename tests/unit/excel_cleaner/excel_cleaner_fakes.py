"""In-memory stand-ins for the excel cleaner's S3 and result topic, plus events."""

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote_plus

from botocore.exceptions import ClientError
from eventbridge_fake import RecordingPublisher
from lambda_support import load_handler_module, load_sample_event

from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError, S3Object
from excel_cleaner.rejection import Limits
from excel_cleaner.service import CleanerConfig, ExcelCleaner
from excel_cleaner.specs import CleaningSpec

RAW_BUCKET = "datalake-raw-example"
CLEAN_BUCKET = "datalake-clean-example"
FIXED_NOW = "2026-11-23T09:00:05Z"

app = load_handler_module("excel_cleaner")
load_event = partial(load_sample_event, "excel_cleaner")


def s3_message(*records: Mapping[str, Any]) -> str:
    return json.dumps({"Records": list(records)}, separators=(",", ":"))


def s3_record(
    key: str,
    size: int,
    *,
    sequencer: str | None = "0062F4A7B3C1D2E3F4",
    version_id: str | None = "v-event",
    event_name: str = "ObjectCreated:Put",
    bucket: str = RAW_BUCKET,
) -> dict[str, Any]:
    """The sample's S3 record, for another object (the key URL-encoded as S3 sends it)."""
    sample = json.loads(load_event("uploaded.json")["Records"][0]["Sns"]["Message"])
    record: dict[str, Any] = copy.deepcopy(sample["Records"][0])
    record["eventName"] = event_name
    record["s3"]["bucket"]["name"] = bucket
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/"), "size": size, "eTag": "e-event"}
    if version_id is not None:
        obj["versionId"] = version_id
    if sequencer is not None:
        obj["sequencer"] = sequencer
    record["s3"]["object"] = obj
    return record


def sns_event(*messages: str) -> dict[str, Any]:
    """A Lambda SNS event with one record per message (the sample record's shape)."""
    template = load_event("uploaded.json")["Records"][0]
    records = []
    for number, message in enumerate(messages):
        record = copy.deepcopy(template)
        record["Sns"]["MessageId"] = f"msg-{number}"
        record["Sns"]["Message"] = message
        records.append(record)
    return {"Records": records}


def uploaded(key: str, size: int, **options: Any) -> dict[str, Any]:
    """A Lambda event announcing one upload."""
    return sns_event(s3_message(s3_record(key, size, **options)))


def throttled(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "SlowDown", "Message": "Please reduce"}}, operation)


def refuse_long_key(key: str, operation: str) -> None:
    """S3 refuses a key over 1,024 bytes of UTF-8 (moto does not)."""
    if len(key.encode("utf-8")) > 1024:
        raise ClientError(
            {"Error": {"Code": "KeyTooLongError", "Message": "Your key is too long"}}, operation
        )


@dataclass
class StoredObject:
    body: bytes
    content_type: str = "application/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str = "v1"


@dataclass
class FakeStore:
    """S3 in dicts, with the adapter's semantics; keys over S3's 1,024 bytes are refused.
    ``outages`` maps an operation name to how many of its next calls fail as throttled S3
    calls."""

    objects: dict[tuple[str, str], StoredObject] = field(default_factory=dict)
    outages: dict[str, int] = field(default_factory=dict)
    reads: list[tuple[str, str]] = field(default_factory=list)
    puts: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def add(self, key: str, body: bytes, bucket: str = RAW_BUCKET, version_id: str = "v1") -> None:
        self.objects[(bucket, key)] = StoredObject(body, version_id=version_id)

    def _maybe_fail(self, operation: str) -> None:
        if self.outages.get(operation, 0):
            self.outages[operation] -= 1
            raise throttled(operation)

    def text(self, key: str, bucket: str = CLEAN_BUCKET) -> str | None:
        stored = self.objects.get((bucket, key))
        return stored.body.decode() if stored is not None else None

    def listing(self, bucket: str = CLEAN_BUCKET) -> list[str]:
        return sorted(key for (b, key) in self.objects if b == bucket)

    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        self._maybe_fail("GetObject")
        self.reads.append((bucket, key))
        stored = self.objects.get((bucket, key))
        if stored is None:
            raise ObjectMissingError(key)
        if len(stored.body) > max_bytes:
            raise ObjectTooLargeError(len(stored.body))
        return S3Object(stored.body, version_id=stored.version_id, etag="e-read")

    def read_json(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        self._maybe_fail("GetObject")
        refuse_long_key(key, "GetObject")
        stored = self.objects.get((bucket, key))
        if stored is None:
            return None
        try:
            document = json.loads(stored.body)
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self._maybe_fail("PutObject")
        refuse_long_key(key, "PutObject")
        self.puts.append(key)
        self.objects[(bucket, key)] = StoredObject(body, content_type)

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        *,
        source_version: str | None,
        bucket: str,
        key: str,
        metadata: Mapping[str, str],
    ) -> None:
        self._maybe_fail("CopyObject")
        refuse_long_key(key, "CopyObject")
        source = self.objects[(source_bucket, source_key)]
        self.objects[(bucket, key)] = StoredObject(source.body, metadata=dict(metadata))

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        self._maybe_fail("DeleteObjects")
        for key in keys:
            self.deleted.append(key)
            self.objects.pop((bucket, key), None)


@dataclass
class FakeTopic:
    """The result topic: every message published, with its outcome attribute."""

    messages: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    outages: int = 0

    def publish(self, outcome: str, subject: str, message: Mapping[str, Any]) -> None:
        if self.outages:
            self.outages -= 1
            raise throttled("Publish")
        # What goes over the wire is JSON: make sure it is.
        self.messages.append((outcome, subject, json.loads(json.dumps(message))))

    def outcomes(self) -> list[str]:
        return [outcome for outcome, _, _ in self.messages]

    def only(self) -> dict[str, Any]:
        [(_, _, message)] = self.messages
        return message


def make_cleaner(
    store: FakeStore,
    topic: FakeTopic,
    events: RecordingPublisher,
    *,
    limits: Limits | None = None,
    specs: Sequence[CleaningSpec] = (),
) -> ExcelCleaner:
    config = CleanerConfig(
        clean_bucket=CLEAN_BUCKET,
        clean_prefix="clean/",
        quarantine_prefix="quarantine/",
        limits=limits or Limits(),
        specs=tuple(specs),
    )
    return ExcelCleaner(config, store, topic, events, now=lambda: FIXED_NOW)
