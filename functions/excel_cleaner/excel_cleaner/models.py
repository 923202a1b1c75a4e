"""The Lambda event: SNS records whose ``Message`` is an S3 event notification (JSON text).

Raw bucket → S3 event notification → SNS "uploaded" topic → this function (asynchronous). Every
record of every SNS message is read, and every S3 record inside each message. S3's
``s3:TestEvent`` message (sent when the notification is configured) is recognised and ignored;
a record that is not what it should be becomes a ``MalformedNotice`` instead of failing the
others. Object keys arrive URL-encoded with ``+`` for spaces and are decoded here.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datalake_shared.event_shapes import (
    NameText,
    Utf8Text,
    decodes_to_lone_surrogate,
    without_lone_surrogates,
)
from datalake_shared.validation import describe_validation_error

TEST_EVENT: Final = "s3:TestEvent"
_MAX_ERROR_CHARS: Final = 500
# SNS message ids are UUIDs (36 characters). A longer one is not SNS's: it makes the record
# malformed, and is cut short where it is echoed (the result message must stay under SNS's
# 256 KiB, and a log line short).
MAX_MESSAGE_ID_CHARS: Final = 100


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _SnsMessage(_Model):
    MessageId: NameText = Field(max_length=MAX_MESSAGE_ID_CHARS)
    TopicArn: str | None = None
    Message: Utf8Text


class _SnsRecord(_Model):
    EventSource: str = "aws:sns"
    Sns: _SnsMessage


class _Bucket(_Model):
    name: str = Field(min_length=1)


class _Object(_Model):
    key: str = Field(min_length=1)
    size: int | None = Field(default=None, ge=0)
    eTag: str | None = None
    versionId: str | None = None
    sequencer: str | None = None


class _S3Entity(_Model):
    bucket: _Bucket
    object: _Object


class _S3Record(_Model):
    eventName: str
    eventTime: str | None = None
    s3: _S3Entity


@dataclass(frozen=True, slots=True)
class UploadedObject:
    """One S3 record: the object an upload created (key decoded)."""

    bucket: str
    key: str
    size: int | None  # None when the notification leaves it out: the read then tells
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None
    event_name: str = "ObjectCreated:Put"
    event_time: str | None = None
    message_id: str | None = None

    @property
    def is_creation(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")


@dataclass(frozen=True, slots=True)
class S3TestNotice:
    """S3's test message, sent once when the bucket notification is configured."""

    message_id: str
    bucket: str | None


@dataclass(frozen=True, slots=True)
class MalformedNotice:
    """A record that is not an SNS-wrapped S3 notification; ``error`` says what is wrong."""

    message_id: str | None
    error: str

    def __post_init__(self) -> None:
        # Both are echoed in the "failed" message and the logs: short, and valid Unicode even
        # when the record they come from is not.
        if self.message_id is not None:
            object.__setattr__(
                self, "message_id", _printable(self.message_id, MAX_MESSAGE_ID_CHARS)
            )
        object.__setattr__(self, "error", _printable(self.error, _MAX_ERROR_CHARS))


type Notice = UploadedObject | S3TestNotice | MalformedNotice


def _problem(error: ValidationError | ValueError) -> str:
    text = describe_validation_error(error) if isinstance(error, ValidationError) else str(error)
    return text[:_MAX_ERROR_CHARS]


def _printable(text: str, most: int) -> str:
    """The text cut to ``most`` characters, each lone surrogate as "?"."""
    return without_lone_surrogates(text[:most])


def _clean_version(version_id: str | None) -> str | None:
    return None if version_id in (None, "", "null") else version_id


def _uploaded(record: Any, message_id: str) -> UploadedObject:
    parsed = _S3Record.model_validate(record)
    obj = parsed.s3.object
    return UploadedObject(
        bucket=parsed.s3.bucket.name,
        key=unquote_plus(obj.key),
        size=obj.size,
        etag=obj.eTag.strip('"') if obj.eTag else None,
        version_id=_clean_version(obj.versionId),
        sequencer=obj.sequencer or None,
        event_name=parsed.eventName,
        event_time=parsed.eventTime,
        message_id=message_id,
    )


def _message_notices(sns: _SnsMessage) -> list[Notice]:
    try:
        message = json.loads(sns.Message)
    except ValueError as error:
        return [MalformedNotice(sns.MessageId, f"SNS Message is not JSON: {error}")]
    if not isinstance(message, Mapping):
        return [MalformedNotice(sns.MessageId, "SNS Message is not a JSON object")]
    if decodes_to_lone_surrogate(sns.Message, message):
        # An escaped lone surrogate ("\\ud800"): no S3 key or bucket name holds one.
        return [MalformedNotice(sns.MessageId, "SNS Message holds text that is not valid Unicode")]
    if message.get("Event") == TEST_EVENT:
        bucket = message.get("Bucket")
        return [S3TestNotice(sns.MessageId, bucket if isinstance(bucket, str) else None)]
    records = message.get("Records")
    if not isinstance(records, list) or not records:
        return [MalformedNotice(sns.MessageId, "SNS Message holds no S3 'Records'")]
    notices: list[Notice] = []
    for position, record in enumerate(records):
        try:
            notices.append(_uploaded(record, sns.MessageId))
        except ValidationError as error:
            notices.append(
                MalformedNotice(sns.MessageId, f"Records[{position}]: {_problem(error)}")
            )
    return notices


def parse_notices(event: Mapping[str, Any]) -> list[Notice]:
    """Every S3 record of every SNS record, in order; never raises for a bad record."""
    records = event.get("Records")
    if not isinstance(records, list):
        return [MalformedNotice(None, "the event has no 'Records' list")]
    notices: list[Notice] = []
    for position, record in enumerate(records):
        try:
            sns_record = _SnsRecord.model_validate(record)
        except ValidationError as error:
            message_id = None
            if isinstance(record, Mapping) and isinstance(record.get("Sns"), Mapping):
                found = record["Sns"].get("MessageId")
                message_id = found if isinstance(found, str) else None
            notices.append(MalformedNotice(message_id, f"Records[{position}]: {_problem(error)}"))
            continue
        if sns_record.EventSource != "aws:sns":
            notices.append(
                MalformedNotice(
                    sns_record.Sns.MessageId,
                    f"Records[{position}]: not an SNS record ({sns_record.EventSource})",
                )
            )
            continue
        notices.extend(_message_notices(sns_record.Sns))
    return notices
