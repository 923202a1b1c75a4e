"""DynamoDB stream records -> the last change per key, in stream order.

The envelope of each record is validated with a small pydantic model of our own rather than
Powertools' ``DynamoDBStreamRecordModel``: that model deserializes every image while it
validates (B left as base64 text, sets as unordered Python sets), so one undecodable image
fails the record before we know its key, and the types we need for new columns are gone. Ours
keeps the images as raw attribute values; ``iceberg_cdc.attribute_values`` decodes them exactly, per
record, so a bad record fails alone.

Records are taken in the order Lambda delivers them, which is stream order within a shard
(the event source mapping's parallelization factor of 1 keeps every key in one ordered batch).
"""

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from datalake_shared.validation import describe_validation_error
from iceberg_cdc.attribute_values import DecodeError, DynamoValue, Item, decode_item, decode_value

TTL_PRINCIPAL: Final = "dynamodb.amazonaws.com"
_MAX_REASON: Final = 300
# DynamoDB Streams sequence numbers are decimal digits (21 today); 40 leaves room to grow while
# keeping int() — the order of records — far below Python's 4,300-digit conversion limit.
SEQUENCE_NUMBER: Final = re.compile(r"[0-9]{1,40}")


type StreamViewType = Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"]


class StreamUserIdentity(BaseModel):
    type: str
    principalId: str


class StreamChange(BaseModel):
    """The record's ``dynamodb`` member, images left as DynamoDB JSON."""

    model_config = ConfigDict(extra="ignore")

    ApproximateCreationDateTime: float | None = None
    Keys: dict[str, Any]
    NewImage: dict[str, Any] | None = None
    OldImage: dict[str, Any] | None = None
    SequenceNumber: str = Field(pattern=f"^{SEQUENCE_NUMBER.pattern}$")
    SizeBytes: int | None = None
    StreamViewType: Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"] | None = (
        None
    )


class StreamRecord(BaseModel):
    """One DynamoDB Streams record as Lambda delivers it."""

    model_config = ConfigDict(extra="ignore")

    eventID: str
    eventName: Literal["INSERT", "MODIFY", "REMOVE"]
    eventVersion: str | None = None
    eventSource: Literal["aws:dynamodb"]
    awsRegion: str | None = None
    eventSourceARN: str | None = None
    dynamodb: StreamChange
    userIdentity: StreamUserIdentity | None = None

    @property
    def sequence_number(self) -> str:
        return self.dynamodb.SequenceNumber

    @property
    def is_ttl_removal(self) -> bool:
        """DynamoDB's TTL process deleted the item (not a user)."""
        identity = self.userIdentity
        return (
            self.eventName == "REMOVE"
            and identity is not None
            and identity.type == "Service"
            and identity.principalId == TTL_PRINCIPAL
        )


class TtlPolicy(StrEnum):
    APPLY = "apply"
    IGNORE = "ignore"


class ChangeKind(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"
    INVALID = "invalid"
    """The key is known but its image is not usable: the key's state cannot be applied."""


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """A record that fails alone (reported by its sequence number)."""

    sequence_number: str
    event_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """What one record says about one key."""

    key: tuple[tuple[str, Hashable], ...]
    """(key attribute, exact value) pairs: equal for every record of the same item."""
    kind: ChangeKind
    sequence_number: str
    event_name: str
    event_id: str
    image: Item | None = None
    reason: str | None = None


@dataclass(slots=True)
class KeyChanges:
    """Every change of one key in a batch; the last one is what the table must show."""

    key: tuple[tuple[str, Hashable], ...]
    changes: list[Change] = field(default_factory=list)

    @property
    def final(self) -> Change:
        return self.changes[-1]

    @property
    def sequence_numbers(self) -> list[str]:
        return [change.sequence_number for change in self.changes]

    @property
    def earliest_sequence_number(self) -> str:
        return min(self.sequence_numbers, key=int)

    @property
    def superseded_invalid(self) -> list[Change]:
        """Invalid records that later records of the key replace (they fail alone)."""
        return [change for change in self.changes[:-1] if change.kind is ChangeKind.INVALID]

    @property
    def net_effect(self) -> Literal["inserted", "updated", "deleted"]:
        """What the batch did to the key, judged from the stream: an item created in the
        batch is "inserted" (even if modified afterwards), a removed one "deleted"."""
        if self.final.kind is ChangeKind.DELETE:
            return "deleted"
        return "inserted" if self.changes[0].event_name == "INSERT" else "updated"


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    keys: list[KeyChanges]
    """One entry per key, in the order of each key's first record."""
    failures: list[RecordFailure]
    ttl_ignored: int
    records: int
    sequence_numbers: list[str]


def _short(reason: str) -> str:
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."


def _hashable(value: DynamoValue, name: str) -> Hashable:
    if type(value) is str or isinstance(value, str | Decimal | bytes):  # S first: most keys
        return value
    raise DecodeError(f"$.{name}", "a key attribute must be S, N or B")


class ChangeReader:
    """Turns stream records into per-key changes.

    ``key_attributes`` (KEY_COLUMNS) names the key; empty means each record's ``Keys``. A key
    value comes from ``Keys`` first, else from the image.
    """

    def __init__(
        self, key_attributes: Sequence[str] = (), ttl_policy: TtlPolicy = TtlPolicy.APPLY
    ) -> None:
        self.key_attributes = tuple(key_attributes)
        self.ttl_policy = ttl_policy

    def _key(self, record: StreamRecord) -> tuple[tuple[str, Hashable], ...]:
        change = record.dynamodb
        keys = decode_item(change.Keys, "$.Keys")
        names = self.key_attributes or tuple(sorted(keys))
        if not names:
            raise DecodeError("$.Keys", "the record has no key attributes")
        pairs: list[tuple[str, Hashable]] = []
        for name in names:
            if name in keys:
                value = keys[name]
            else:
                raw_images = (change.NewImage or {}, change.OldImage or {})
                image = next((image for image in raw_images if name in image), None)
                if image is None:
                    raise DecodeError(f"$.{name}", "key attribute missing from Keys and images")
                value = decode_value(image[name], f"$.{name}")
            pairs.append((name, _hashable(value, name)))
        return tuple(pairs)

    def _change(self, record: StreamRecord, key: tuple[tuple[str, Hashable], ...]) -> Change:
        sequence_number, name, event_id = record.sequence_number, record.eventName, record.eventID
        if name == "REMOVE":
            return Change(key, ChangeKind.DELETE, sequence_number, name, event_id)
        new_image = record.dynamodb.NewImage
        if new_image is None:
            reason = (
                f"{name} record without NewImage: the stream must use "
                "NEW_IMAGE or NEW_AND_OLD_IMAGES"
            )
            return Change(key, ChangeKind.INVALID, sequence_number, name, event_id, None, reason)
        try:
            image = decode_item(new_image, "$.NewImage")
        except DecodeError as error:
            reason = _short(f"undecodable NewImage: {error}")
            return Change(key, ChangeKind.INVALID, sequence_number, name, event_id, None, reason)
        return Change(key, ChangeKind.UPSERT, sequence_number, name, event_id, image)

    def read(self, raw_records: Sequence[Mapping[str, Any]]) -> ParsedBatch:
        by_key: dict[tuple[tuple[str, Hashable], ...], KeyChanges] = {}
        failures: list[RecordFailure] = []
        sequence_numbers: list[str] = []
        ttl_ignored = 0
        for index, raw in enumerate(raw_records):
            sequence_number = _sequence_number(raw, index)
            sequence_numbers.append(sequence_number)
            try:
                record = StreamRecord.model_validate(raw)
            except ValidationError as error:
                failures.append(
                    RecordFailure(sequence_number, _event_id(raw), _short(_validation(error)))
                )
                continue
            if self.ttl_policy is TtlPolicy.IGNORE and record.is_ttl_removal:
                ttl_ignored += 1
                continue
            try:
                key = self._key(record)
            except DecodeError as error:
                reason = _short(f"undecodable key: {error}")
                failures.append(RecordFailure(sequence_number, record.eventID, reason))
                continue
            changes = by_key.get(key)
            if changes is None:
                changes = by_key[key] = KeyChanges(key)
            changes.changes.append(self._change(record, key))
        return ParsedBatch(
            keys=list(by_key.values()),
            failures=failures,
            ttl_ignored=ttl_ignored,
            records=len(raw_records),
            sequence_numbers=sequence_numbers,
        )


class MalformedBatchError(ValueError):
    """A record without a sequence number: it cannot be reported, so the invocation fails."""


def _sequence_number(raw: Mapping[str, Any], index: int) -> str:
    # type() first: the event's JSON gives dicts, and an ABC check costs more than the rest.
    change = raw.get("dynamodb") if type(raw) is dict or isinstance(raw, Mapping) else None
    number = None
    if type(change) is dict or isinstance(change, Mapping):
        number = change.get("SequenceNumber")
    if not isinstance(number, str) or SEQUENCE_NUMBER.fullmatch(number) is None:
        raise MalformedBatchError(
            f"record {index} has no dynamodb.SequenceNumber (1 to 40 digits): not a DynamoDB "
            "stream record"
        )
    return number


def sequence_number_of(raw: Mapping[str, Any], index: int) -> str:
    """A record's sequence number (MalformedBatchError without one): for reporting records
    that are not read at all."""
    return _sequence_number(raw, index)


def _event_id(raw: Mapping[str, Any]) -> str | None:
    event_id = raw.get("eventID")
    return event_id if isinstance(event_id, str) else None


def _validation(error: ValidationError) -> str:
    return "invalid stream record: " + describe_validation_error(error)
