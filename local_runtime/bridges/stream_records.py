"""Lambda's DynamoDB stream semantics, pure: the record shape a function receives, event
filtering, how an invocation's outcome is read, checkpoints with retries and bisection, and the
failure record of discarded batches. The stream bridge (dynamodb_streams) feeds these with
records read from whichever engine holds the tables.
"""

import base64
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_runtime.moto_adapter.services import event_pattern_matches

# MaximumRetryAttempts -1 means "until the record expires" (24 h): locally, this many retries.
LOCAL_RETRY_CAP = 10
DEFAULT_BATCH_SIZE = 100  # Lambda's default for DynamoDB streams
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
# The same identity as the streams API returns it on a record (Lambda renames the keys).
TTL_STREAM_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


# ---------------------------------------------------------------------- records (pure)
def wire_value(value: Any) -> Any:
    """A DynamoDB attribute value as JSON carries it: binary values base64-encoded."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Mapping):
        return {key: wire_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [wire_value(item) for item in value]
    return value


def _epoch_seconds(moment: Any) -> float:
    if isinstance(moment, datetime):
        stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return float(int(stamp.timestamp()))
    return float(int(float(moment)))


def lambda_stream_record(record: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One record of ``dynamodbstreams.get_records`` in the shape Lambda hands it to a function.

    ApproximateCreationDateTime is epoch seconds (Lambda's default precision), images keep the
    DynamoDB JSON format, and a TTL deletion carries ``userIdentity``."""
    change = record["dynamodb"]
    dynamodb: dict[str, Any] = {}
    if change.get("ApproximateCreationDateTime") is not None:
        dynamodb["ApproximateCreationDateTime"] = _epoch_seconds(
            change["ApproximateCreationDateTime"]
        )
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            dynamodb[image] = wire_value(change[image])
    dynamodb["SequenceNumber"] = str(change["SequenceNumber"])
    dynamodb["SizeBytes"] = int(change.get("SizeBytes", 0))
    dynamodb["StreamViewType"] = change.get("StreamViewType", "NEW_AND_OLD_IMAGES")
    delivered: dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    identity = record.get("userIdentity")
    if identity:
        # The streams API says {"PrincipalId", "Type"}; Lambda events say {"type", "principalId"}.
        delivered["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return delivered


def matches_filters(record: Mapping[str, Any], filter_criteria: Mapping[str, Any] | None) -> bool:
    """Lambda event filtering: a record goes to the function when any filter pattern matches."""
    filters = (filter_criteria or {}).get("Filters") or []
    if not filters:
        return True
    return any(event_pattern_matches(str(f.get("Pattern", "{}")), dict(record)) for f in filters)


def _iso(seconds: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_record(
    *,
    records: Sequence[Mapping[str, Any]],
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    invoke_count: int,
    function_error: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's OnFailure destination for discarded records:
    metadata about the batch, not the records (read them from the stream with the numbers)."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response["functionError"] = "Unhandled"
    moment = now or datetime.now(UTC)
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(moment.timestamp(), millis=True),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first.get("ApproximateCreationDateTime", 0)),
            "approximateArrivalOfLastRecord": _iso(last.get("ApproximateCreationDateTime", 0)),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


# ---------------------------------------------------------------------- batch outcome (pure)
@dataclass(frozen=True)
class BatchOutcome:
    """How Lambda reads one invocation of a stream batch.

    ``retry_from`` is None when the whole batch succeeded, else the index of the first record
    to retry; ``function_error`` says the whole batch failed (error or unreadable response),
    which is when BisectBatchOnFunctionError applies."""

    retry_from: int | None
    function_error: bool = False


def judge_batch(
    ok: bool, response: Any, report_batch_item_failures: bool, sequence_numbers: Sequence[str]
) -> BatchOutcome:
    if not ok:
        return BatchOutcome(retry_from=0, function_error=True)
    if not report_batch_item_failures:
        return BatchOutcome(retry_from=None)
    # Lambda's rules: an empty or null response or list is a full success; a list it cannot
    # read (not a list, unknown or empty itemIdentifier) fails the whole batch.
    failures = response.get("batchItemFailures") if isinstance(response, dict) else response
    if not failures:
        return BatchOutcome(retry_from=None)
    known = {str(number): index for index, number in enumerate(sequence_numbers)}
    if not isinstance(failures, list) or not all(
        isinstance(f, dict) and str(f.get("itemIdentifier")) in known for f in failures
    ):
        return BatchOutcome(retry_from=0, function_error=True)
    return BatchOutcome(retry_from=min(known[str(f["itemIdentifier"])] for f in failures))


# ---------------------------------------------------------------------- checkpoints (pure)
@dataclass
class _Range:
    size: int
    invocations: int


@dataclass
class Exhausted:
    """Records whose retries ran out: Lambda discards them (and reports them OnFailure)."""

    records: list[dict[str, Any]]
    invocations: int
    function_error: bool


@dataclass
class ShardCursor:
    """Lambda's position in one shard: records read but not yet checkpointed, and the ranges
    at their front still being retried. Pure: feed it records and invocation outcomes."""

    batch_size: int
    maximum_retry_attempts: int
    bisect_on_error: bool
    pending: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: str | None = None  # sequence number of the last record done with
    _retrying: list[_Range] = field(default_factory=list)

    @property
    def retry_limit(self) -> int:
        attempts = self.maximum_retry_attempts
        return LOCAL_RETRY_CAP if attempts < 0 else min(attempts, LOCAL_RETRY_CAP)

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        self.pending.extend(records)

    def next_batch(self) -> list[dict[str, Any]]:
        if not self.pending:
            return []
        if not self._retrying:
            self._retrying.append(_Range(min(self.batch_size, len(self.pending)), 0))
        return self.pending[: self._retrying[0].size]

    def record(self, outcome: BatchOutcome) -> Exhausted | None:
        """Applies the outcome of invoking ``next_batch()``; returns what was discarded."""
        current = self._retrying.pop(0)
        current.invocations += 1
        if outcome.retry_from is None:
            self._advance(current.size)
            return None
        self._advance(outcome.retry_from)
        remaining = current.size - outcome.retry_from
        if current.invocations > self.retry_limit:
            discarded = Exhausted(
                records=self.pending[:remaining],
                invocations=current.invocations,
                function_error=outcome.function_error,
            )
            self._advance(remaining)
            return discarded
        if outcome.function_error and self.bisect_on_error and remaining > 1:
            half = remaining // 2
            self._retrying[0:0] = [
                _Range(half, current.invocations),
                _Range(remaining - half, current.invocations),
            ]
        else:
            self._retrying.insert(0, _Range(remaining, current.invocations))
        return None

    def _advance(self, count: int) -> None:
        if count <= 0:
            return
        self.checkpoint = self.pending[count - 1]["dynamodb"]["SequenceNumber"]
        del self.pending[:count]
