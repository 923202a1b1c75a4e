"""DynamoDB stream event source mappings, polled the way Lambda's stream poller does it.

moto keeps stream records (readable with the ``dynamodbstreams`` API) but its own mapping tries
to invoke the function in Docker and, when that returns anything, empties the shard: records
are lost and sequence numbers restart. We take over moto's mappings and do what Lambda does:

- one poller per shard, starting at TRIM_HORIZON or LATEST (StartingPosition); records go to
  the function in stream order, in batches of up to BatchSize, synchronously, one batch at a
  time per shard (ParallelizationFactor > 1 keeps per-key order on AWS; here everything is in
  order). MaximumBatchingWindowInSeconds is not waited for: local time is compressed.
- FilterCriteria: records no filter matches are skipped, as Lambda does before batching.
- success: the checkpoint moves past the batch. A function error (or a response Lambda cannot
  read) retries the same records; with BisectBatchOnFunctionError the failed batch is split in
  halves and each half retried in turn. With ReportBatchItemFailures, the checkpoint moves to
  just before the lowest reported sequence number and the rest is retried (an empty or null
  list is a success).
- Retries are counted per failing range: a range is invoked at most 1 + MaximumRetryAttempts
  times (halves inherit the count of the batch they come from). MaximumRetryAttempts -1 (retry
  until the record expires, 24 h on AWS) is capped at ``LOCAL_RETRY_CAP`` here. When retries
  are exhausted, Lambda's failure record (DDBStreamBatchInfo) goes to the OnFailure
  destination (SQS queue or SNS topic) and the poller moves past the range.
  MaximumRecordAgeInSeconds is not applied (records never age locally).

TTL: moto never expires items. ``expire_items`` deletes the items whose TTL attribute is past,
and marks moto's REMOVE stream record with the TTL service identity, so ``get_records`` and the
function see ``userIdentity`` as they do for a TTL deletion on AWS. moto's CloudFormation also
drops a table's TimeToLiveSpecification: ``install`` applies it from the template.
"""

import base64
import contextlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from moto.dynamodb.models import dynamodb_backends
from moto.events.models import EventPattern

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.sns import send_to_destination, template_resolver
from local_runtime.intrinsics import ACCOUNT_ID, UnresolvableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# MaximumRetryAttempts -1 means "until the record expires" (24 h): locally, this many retries.
LOCAL_RETRY_CAP = 10
DEFAULT_BATCH_SIZE = 100  # Lambda's default for DynamoDB streams
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
# DynamoDB does not delete items whose TTL is more than five years in the past.
_TTL_HORIZON_S = 5 * 365 * 24 * 3600
_GET_RECORDS_LIMIT = 1000


# ---------------------------------------------------------------------- records (pure)
def _wire_value(value: Any) -> Any:
    """A DynamoDB attribute value as JSON carries it: binary values base64-encoded."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Mapping):
        return {key: _wire_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_wire_value(item) for item in value]
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
            dynamodb[image] = _wire_value(change[image])
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
    return any(
        EventPattern.load(str(f.get("Pattern", "{}"))).matches_event(dict(record))  # type: ignore[arg-type]
        for f in filters
    )


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


# ---------------------------------------------------------------------- the bridge
@dataclass(frozen=True)
class StreamMapping:
    uuid: str
    stream_arn: str
    table_name: str
    function_arn: str
    batch_size: int
    starting_position: str
    maximum_retry_attempts: int
    bisect_on_error: bool
    report_batch_item_failures: bool
    on_failure: str | None
    filter_criteria: dict[str, Any] | None = None
    maximum_batching_window_s: int = 0
    parallelization_factor: int = 1


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    cursor: ShardCursor


@dataclass
class DiscardedBatch:
    mapping: str  # logical id of the mapping's function
    failure: dict[str, Any]  # what went to OnFailure (also kept when there is no destination)


def _settings(moto_config: Mapping[str, Any], template_props: Mapping[str, Any]) -> dict[str, Any]:
    """moto's view of the mapping, with what it leaves out taken from the template."""
    merged = {name: value for name, value in template_props.items() if value is not None}
    merged.update({name: value for name, value in moto_config.items() if value is not None})
    return merged


class DynamoDbStreamsBridge:
    def __init__(self) -> None:
        self.mappings: list[StreamMapping] = []
        self.discarded: list[DiscardedBatch] = []
        self._shards: dict[tuple[str, str], _Shard] = {}  # (mapping uuid, shard id)
        self._services: RuntimeServices | None = None
        self._streams: DynamoDBStreamsClient | None = None

    # ------------------------------------------------------------------ Bridge
    def install(self, services: RuntimeServices) -> None:
        self._services = services
        session = services.session
        self._streams = session.client("dynamodbstreams")
        self._apply_time_to_live()
        template_props = self._template_mappings()
        lambda_client = session.client("lambda")
        backend = dynamodb_backends[ACCOUNT_ID][session.region_name]
        for page in lambda_client.get_paginator("list_event_source_mappings").paginate():
            for config in page["EventSourceMappings"]:
                source = config.get("EventSourceArn", "")
                if ":dynamodb:" not in source or "/stream/" not in source:
                    continue
                table_name = source.split(":table/", 1)[1].split("/stream/", 1)[0]
                # moto's own mapping would invoke through Docker and empty the shard.
                backend.get_table(table_name).lambda_event_source_mappings.clear()
                settings = _settings(dict(config), template_props.get(config["UUID"], {}))
                if settings.get("State", "Enabled") not in {"Enabled", "Creating", "Enabling"}:
                    continue
                mapping = self._mapping(settings, table_name)
                self.mappings.append(mapping)
                self._discover_shards(mapping)

    def uninstall(self) -> None:
        self.mappings.clear()
        self._shards.clear()

    def pump(self) -> int:
        """Delivers every record written so far (retries included); returns how many records
        were delivered or discarded."""
        done = 0
        for mapping in self.mappings:
            self._discover_shards(mapping)
            for (uuid_, _), shard in list(self._shards.items()):
                if uuid_ == mapping.uuid:
                    done += self._drain(mapping, shard)
        return done

    # ------------------------------------------------------------------ TTL
    def expire_items(self, table: str, now_epoch: float) -> int:
        """Deletes the items of ``table`` (logical id or name) whose TTL attribute is at or
        before ``now_epoch``, as DynamoDB's TTL process would; their REMOVE stream records
        carry the TTL service identity. Returns how many items were deleted."""
        services = self._require_services()
        dynamodb: DynamoDBClient = services.session.client("dynamodb")
        name = services.stack.resources.get(table, table)
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        attribute = ttl.get("AttributeName")
        if ttl.get("TimeToLiveStatus") != "ENABLED" or not attribute:
            raise ValueError(f"table {name} has no TTL enabled")
        key_names = [
            k["AttributeName"]
            for k in dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
        ]
        expired: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                raw = item.get(attribute, {}).get("N")
                if raw is None:  # TTL only looks at Number attributes
                    continue
                expires = float(raw)
                if now_epoch - _TTL_HORIZON_S <= expires <= now_epoch:
                    expired.append({k: item[k] for k in key_names})
        deleted = 0
        for key in expired:
            before = self._stream_length(name)
            try:
                dynamodb.delete_item(
                    TableName=name,
                    Key=key,
                    ConditionExpression="#ttl <= :now",
                    ExpressionAttributeNames={"#ttl": attribute},
                    ExpressionAttributeValues={":now": {"N": repr(now_epoch)}},
                )
            except dynamodb.exceptions.ConditionalCheckFailedException:
                continue  # changed since the scan: no longer expired
            deleted += 1
            self._mark_ttl_removal(name, before, _wire_value(key))
        return deleted

    # ------------------------------------------------------------------ internals
    def _require_services(self) -> RuntimeServices:
        if self._services is None:
            raise RuntimeError("DynamoDbStreamsBridge used before install()")
        return self._services

    def _apply_time_to_live(self) -> None:
        services = self._require_services()
        dynamodb: DynamoDBClient = services.session.client("dynamodb")
        for logical, resource in services.template.resources_of_type(
            "AWS::DynamoDB::Table"
        ).items():
            spec = resource.get("Properties", {}).get("TimeToLiveSpecification") or {}
            name = services.stack.resources.get(logical)
            enabled = spec.get("Enabled") in {True, "true", "True"}
            if name is None or not enabled or not isinstance(spec.get("AttributeName"), str):
                continue
            current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") != "ENABLED":
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={
                        "Enabled": True,
                        "AttributeName": spec["AttributeName"],
                    },
                )

    def _template_mappings(self) -> dict[str, dict[str, Any]]:
        """The template's properties of each mapping, by the mapping's UUID (its physical id);
        a property the local resolver cannot resolve is left to moto's view."""
        services = self._require_services()
        mappings = services.template.resources_of_type("AWS::Lambda::EventSourceMapping")
        if not mappings:
            return {}
        resolver = template_resolver(services)
        found: dict[str, dict[str, Any]] = {}
        for logical, resource in mappings.items():
            physical = services.stack.resources.get(logical)
            if physical is None:
                continue
            found[physical] = {}
            for name, value in resource.get("Properties", {}).items():
                with contextlib.suppress(UnresolvableError):
                    found[physical][name] = resolver.resolve(value)
        return found

    def _mapping(self, settings: Mapping[str, Any], table_name: str) -> StreamMapping:
        destination = (
            (settings.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        )
        return StreamMapping(
            uuid=str(settings["UUID"]),
            stream_arn=str(settings["EventSourceArn"]),
            table_name=table_name,
            function_arn=str(settings["FunctionArn"]),
            batch_size=int(settings.get("BatchSize") or DEFAULT_BATCH_SIZE),
            starting_position=str(settings.get("StartingPosition") or "TRIM_HORIZON"),
            maximum_retry_attempts=int(settings.get("MaximumRetryAttempts", -1)),
            bisect_on_error=str(settings.get("BisectBatchOnFunctionError")).lower() == "true",
            report_batch_item_failures="ReportBatchItemFailures"
            in (settings.get("FunctionResponseTypes") or []),
            on_failure=str(destination) if destination else None,
            filter_criteria=settings.get("FilterCriteria") or None,
            maximum_batching_window_s=int(settings.get("MaximumBatchingWindowInSeconds") or 0),
            parallelization_factor=int(settings.get("ParallelizationFactor") or 1),
        )

    def _discover_shards(self, mapping: StreamMapping) -> None:
        assert self._streams is not None
        description = self._streams.describe_stream(StreamArn=mapping.stream_arn)
        for shard in description["StreamDescription"].get("Shards", []):
            key = (mapping.uuid, shard["ShardId"])
            if key in self._shards:
                continue
            position: Literal["LATEST", "TRIM_HORIZON"] = (
                "LATEST" if mapping.starting_position == "LATEST" else "TRIM_HORIZON"
            )
            iterator = self._streams.get_shard_iterator(
                StreamArn=mapping.stream_arn, ShardId=shard["ShardId"], ShardIteratorType=position
            )["ShardIterator"]
            self._shards[key] = _Shard(
                shard_id=shard["ShardId"],
                iterator=iterator,
                cursor=ShardCursor(
                    batch_size=mapping.batch_size,
                    maximum_retry_attempts=mapping.maximum_retry_attempts,
                    bisect_on_error=mapping.bisect_on_error,
                ),
            )

    def _read(self, mapping: StreamMapping, shard: _Shard) -> None:
        assert self._streams is not None
        region = self._require_services().session.region_name
        while shard.iterator:
            page = self._streams.get_records(ShardIterator=shard.iterator, Limit=_GET_RECORDS_LIMIT)
            shard.iterator = page.get("NextShardIterator")
            records = [
                lambda_stream_record(r, mapping.stream_arn, region) for r in page.get("Records", [])
            ]
            if not records:
                return
            shard.cursor.add([r for r in records if matches_filters(r, mapping.filter_criteria)])

    def _drain(self, mapping: StreamMapping, shard: _Shard) -> int:
        services = self._require_services()
        self._read(mapping, shard)
        via = f"stream {services.logical_id(mapping.table_name)}"
        done = 0
        while batch := shard.cursor.next_batch():
            invocation = services.runner.invoke(mapping.function_arn, {"Records": batch}, via)
            outcome = judge_batch(
                invocation.ok,
                invocation.response,
                mapping.report_batch_item_failures,
                [r["dynamodb"]["SequenceNumber"] for r in batch],
            )
            handled = len(batch) if outcome.retry_from is None else outcome.retry_from
            exhausted = shard.cursor.record(outcome)
            if exhausted is not None:
                handled += len(exhausted.records)
                self._discard(mapping, shard, exhausted)
            done += handled
        return done

    def _discard(self, mapping: StreamMapping, shard: _Shard, exhausted: Exhausted) -> None:
        services = self._require_services()
        record = failure_record(
            records=exhausted.records,
            shard_id=shard.shard_id,
            stream_arn=mapping.stream_arn,
            function_arn=mapping.function_arn,
            invoke_count=exhausted.invocations,
            function_error=exhausted.function_error,
        )
        function = services.logical_id(mapping.function_arn.rsplit(":", 1)[-1])
        self.discarded.append(DiscardedBatch(function, record))
        info = record["DDBStreamBatchInfo"]
        services.activity.notes.append(
            f"stream mapping of {function} discarded {info['batchSize']} record(s) "
            f"{info['startSequenceNumber']}..{info['endSequenceNumber']} after "
            f"{exhausted.invocations} invocation(s)"
        )
        if mapping.on_failure:
            send_to_destination(services, mapping.on_failure, record, f"OnFailure of {function}")

    def _stream_length(self, table_name: str) -> int:
        table = self._moto_table(table_name)
        shard = getattr(table, "stream_shard", None)
        return len(shard.items) if shard is not None else 0

    def _moto_table(self, table_name: str) -> Any:
        region = self._require_services().session.region_name
        return dynamodb_backends[ACCOUNT_ID][region].get_table(table_name)

    def _mark_ttl_removal(self, table_name: str, since: int, keys: dict[str, Any]) -> None:
        """moto's StreamRecord is a dict the streams API serializes as is: the TTL identity
        added here comes back from get_records as AWS returns it for a TTL deletion."""
        shard = getattr(self._moto_table(table_name), "stream_shard", None)
        if shard is None:
            return
        removals = [
            item.record
            for item in shard.items[since:]
            if item.record.get("eventName") == "REMOVE" and "userIdentity" not in item.record
        ]
        matching = [
            r
            for r in removals
            if json.dumps(r["dynamodb"].get("Keys"), sort_keys=True)
            == json.dumps(keys, sort_keys=True)
        ]
        for record in (matching or removals)[:1]:
            record["userIdentity"] = {"PrincipalId": TTL_IDENTITY["principalId"], "Type": "Service"}
