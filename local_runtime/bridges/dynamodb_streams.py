"""DynamoDB stream event source mappings, polled the way Lambda's stream poller does it.

The tables and their streams live on the DynamoDB backend the runtime was started with (moto by
default, or DynamoDB Local: dynamodb_backend); this bridge reads the streams with the public
streams API and reaches the engine's particulars only through its adapter. moto's own mapping
would invoke the function in Docker and, when that returns anything, empty the shard: records
lost, sequence numbers restarted. We take over the template's mappings and do what Lambda does
(the pure rules are in stream_records):

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
- Records carry the mapping's stream ARN (``eventSourceARN``), as on AWS, whatever ARN the
  engine reads the stream at.
- Mappings are found at install (the template's) and again at every pump, so one created
  through the Lambda API later (the config loader's CDC tables) is polled from its next pump,
  and one deleted or disabled is no longer polled (its unread records stay in the stream).
  moto's own delivery to stream mappings is switched off while the bridge is installed.

TTL: no local engine expires items. ``expire_items`` deletes the items whose TTL attribute is
past, as DynamoDB's TTL process would; the backend makes their REMOVE records carry the TTL
service identity, so the function sees ``userIdentity`` as it does for a TTL deletion on AWS.
"""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.dynamodb_backend import MOTO, DynamoDbBackend, dynamodb_backend
from local_runtime.bridges.sns import send_to_destination, template_resolver
from local_runtime.bridges.stream_records import (
    DEFAULT_BATCH_SIZE,
    LOCAL_RETRY_CAP,
    TTL_IDENTITY,
    BatchOutcome,
    Exhausted,
    ShardCursor,
    failure_record,
    judge_batch,
    lambda_stream_record,
    matches_filters,
)
from local_runtime.intrinsics import UnresolvableError
from local_runtime.moto_adapter.hooks import LAMBDA_SEND_DYNAMODB_ITEMS, Patches

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

__all__ = [
    "LOCAL_RETRY_CAP",
    "TTL_IDENTITY",
    "BatchOutcome",
    "DiscardedBatch",
    "DynamoDbStreamsBridge",
    "ShardCursor",
    "StreamMapping",
    "failure_record",
    "judge_batch",
    "lambda_stream_record",
    "matches_filters",
]

# DynamoDB does not delete items whose TTL is more than five years in the past.
_TTL_HORIZON_S = 5 * 365 * 24 * 3600
_GET_RECORDS_LIMIT = 1000


# ---------------------------------------------------------------------- the bridge
@dataclass(frozen=True)
class StreamMapping:
    uuid: str
    stream_arn: str  # as the mapping names it: the records' eventSourceARN
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
    read_arn: str = ""  # where the backend serves that stream (the same ARN on moto)

    @property
    def source_arn(self) -> str:
        return self.read_arn or self.stream_arn


@dataclass
class _Shard:
    shard_id: str
    cursor: ShardCursor
    iterator: str | None = None  # None once a closed shard is read to its end
    last_read: str | None = None  # sequence number of the last record read from the shard
    # LATEST: the shard's last record when the mapping started; it and those before are skipped
    skip_through: int | None = None


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
    def __init__(self, backend: DynamoDbBackend | None = None) -> None:
        """``backend`` holds the tables (the runtime's, started by it); without one, the bridge
        uses moto and starts that adapter itself."""
        self.backend = backend or dynamodb_backend(MOTO)
        self._starts_backend = backend is None
        self.mappings: list[StreamMapping] = []
        self.discarded: list[DiscardedBatch] = []
        self._shards: dict[tuple[str, str], _Shard] = {}  # (mapping uuid, shard id)
        self._services: RuntimeServices | None = None
        self._streams: DynamoDBStreamsClient | None = None
        self._template_props: dict[str, dict[str, Any]] = {}
        self._discovered: set[str] = set()  # UUIDs found through the Lambda API
        self._patches = Patches()

    # ------------------------------------------------------------------ Bridge
    def install(self, services: RuntimeServices) -> None:
        self._services = services
        session = services.session
        if self._starts_backend:
            self.backend.start(session)
        self._streams = session.client("dynamodbstreams")
        self._template_props = self._template_mappings()
        # moto would deliver each write to a mapping made later (in Docker), then empty the shard.
        self._patches.replace(LAMBDA_SEND_DYNAMODB_ITEMS, lambda *_args, **_kwargs: None)
        self._discover_mappings()

    def uninstall(self) -> None:
        self._patches.restore()
        self._discovered.clear()
        self.mappings.clear()
        self._shards.clear()
        if self._starts_backend:
            self.backend.stop()

    def pump(self) -> int:
        """Delivers every record written so far (retries included); returns how many records
        were delivered or discarded."""
        self._discover_mappings()
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
        attribute = self.backend.time_to_live_attribute(name)
        if not attribute:
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
            try:
                with self.backend.ttl_deletion(name, key):
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
        return deleted

    # ------------------------------------------------------------------ internals
    def _require_services(self) -> RuntimeServices:
        if self._services is None:
            raise RuntimeError("DynamoDbStreamsBridge used before install()")
        return self._services

    def _discover_mappings(self) -> None:
        """The enabled stream mappings Lambda lists now: new ones added (their shards opened),
        deleted or disabled ones dropped with their shards."""
        services = self._require_services()
        listed: dict[str, dict[str, Any]] = {}
        paginator = services.session.client("lambda").get_paginator("list_event_source_mappings")
        for page in paginator.paginate():
            for config in page["EventSourceMappings"]:
                source = config.get("EventSourceArn", "")
                if ":dynamodb:" in source and "/stream/" in source:
                    listed[config["UUID"]] = dict(config)
        known = {mapping.uuid for mapping in self.mappings}
        for uuid_, listed_config in listed.items():
            if uuid_ in known:
                continue
            source = str(listed_config["EventSourceArn"])
            table_name = source.split(":table/", 1)[1].split("/stream/", 1)[0]
            self.backend.take_over_stream(table_name)
            settings = _settings(listed_config, self._template_props.get(uuid_, {}))
            if settings.get("State", "Enabled") not in {"Enabled", "Creating", "Enabling"}:
                continue
            mapping = self._mapping(settings, table_name)
            self.mappings.append(mapping)
            self._discovered.add(uuid_)
            self._discover_shards(mapping)
        gone = {
            uuid_
            for uuid_ in self._discovered
            if uuid_ not in listed
            or listed[uuid_].get("State", "Enabled") in {"Disabled", "Disabling"}
        }
        self._discovered -= gone
        if gone:
            self.mappings = [mapping for mapping in self.mappings if mapping.uuid not in gone]
            self._shards = {key: s for key, s in self._shards.items() if key[0] not in gone}

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
            read_arn=self.backend.stream_to_read(table_name, str(settings["EventSourceArn"])),
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
        description = self._streams.describe_stream(StreamArn=mapping.source_arn)
        for found in description["StreamDescription"].get("Shards", []):
            key = (mapping.uuid, found["ShardId"])
            if key in self._shards:
                continue
            shard = _Shard(
                shard_id=found["ShardId"],
                cursor=ShardCursor(
                    batch_size=mapping.batch_size,
                    maximum_retry_attempts=mapping.maximum_retry_attempts,
                    bisect_on_error=mapping.bisect_on_error,
                ),
            )
            if mapping.starting_position == "LATEST":
                shard.skip_through = self._last_sequence_number(mapping, shard)
            shard.iterator = self._open(mapping, shard)
            self._shards[key] = shard

    def _open(self, mapping: StreamMapping, shard: _Shard) -> str:
        """An iterator just after the last record read, or at the shard's start."""
        assert self._streams is not None
        if shard.last_read is None:
            opened = self._streams.get_shard_iterator(
                StreamArn=mapping.source_arn,
                ShardId=shard.shard_id,
                ShardIteratorType="TRIM_HORIZON",
            )
        else:
            opened = self._streams.get_shard_iterator(
                StreamArn=mapping.source_arn,
                ShardId=shard.shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=shard.last_read,
            )
        return opened["ShardIterator"]

    def _last_sequence_number(self, mapping: StreamMapping, shard: _Shard) -> int | None:
        assert self._streams is not None
        last: int | None = None
        iterator: str | None = self._open(mapping, shard)
        while iterator:
            page = self._streams.get_records(ShardIterator=iterator, Limit=_GET_RECORDS_LIMIT)
            if not page.get("Records"):
                break
            last = int(page["Records"][-1]["dynamodb"]["SequenceNumber"])
            iterator = page.get("NextShardIterator")
        return last

    def _page(self, mapping: StreamMapping, shard: _Shard) -> Any:
        """The next page of the shard. An iterator the engine no longer honours (expired after
        15 minutes on AWS; on DynamoDB Local, one taken on an empty shard once other tables'
        writes moved its global sequence numbers on) is replaced, once, as Lambda's poller
        does: just after the last record read."""
        streams = self._streams
        assert streams is not None
        assert shard.iterator is not None
        try:
            return streams.get_records(ShardIterator=shard.iterator, Limit=_GET_RECORDS_LIMIT)
        except (
            streams.exceptions.ExpiredIteratorException,
            streams.exceptions.TrimmedDataAccessException,
        ):
            shard.iterator = self._open(mapping, shard)
            return streams.get_records(ShardIterator=shard.iterator, Limit=_GET_RECORDS_LIMIT)

    def _read(self, mapping: StreamMapping, shard: _Shard) -> None:
        region = self._require_services().session.region_name
        while shard.iterator:
            page = self._page(mapping, shard)
            shard.iterator = page.get("NextShardIterator")
            read = page.get("Records", [])
            if not read:
                return
            shard.last_read = str(read[-1]["dynamodb"]["SequenceNumber"])
            records = [
                lambda_stream_record(
                    self.backend.as_stored(mapping.source_arn, dict(r)), mapping.stream_arn, region
                )
                for r in read
                if shard.skip_through is None
                or int(r["dynamodb"]["SequenceNumber"]) > shard.skip_through
            ]
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
