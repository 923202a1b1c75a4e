"""The DynamoDB Local backend: AWS's own emulator serves the stack's tables and their streams.

- Lifecycle: ``start`` launches DynamoDB Local (in memory, a free loopback port) in the
  background while the stack deploys into moto; ``create_tables`` waits for it, routes the
  process's DynamoDB and DynamoDB Streams clients to it (``AWS_ENDPOINT_URL_DYNAMODB[_STREAMS]``,
  which botocore reads when a client is created; moto lets requests to other hosts through) and
  creates every table of the stack as the template declares it, under the name moto's
  CloudFormation gave it, so outputs, function environments and ARNs stay as deployed.
  moto keeps its own (unused) copies of the tables. Given the endpoint of a DynamoDB Local that
  is already running (``LOCAL_DYNAMODB_ENDPOINT``: a test session shares one, as its JVM takes
  seconds to start), the backend uses it and drops its tables on ``stop`` instead.
- Streams: read with the streams API on DynamoDB Local (its own stream ARN, not the mapping's).
  What differs from AWS is corrected on the records read, never in project code: DynamoDB
  Local 3.3.1 writes an empty map as ``{}`` instead of ``{"M": {}}``
  (awslabs/amazon-dynamodb-local-samples#37).
- TTL: DynamoDB Local 3.3.1 runs a TTL sweep of its own, seconds after an item expires (AWS
  takes up to days), and writes the removal with eventName ``UNKNOWN_TO_SDK_VERSION`` and no
  userIdentity. So that expiry happens when a test or the demo says so, as on moto, the tables
  are created with TTL off and the template's TTL attribute is kept here: the stream bridge's
  ``expire_items`` is the TTL process on both backends, and the REMOVE records of its deletions
  are given the TTL service identity here. (DescribeTimeToLive on DynamoDB Local therefore says
  DISABLED; nothing in the project reads it.) A sweep record, should TTL be switched on anyway,
  is corrected to the REMOVE AWS writes.
"""

import concurrent.futures
import contextlib
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from local_runtime.bridges.dynamodb_backend import DYNAMODB_LOCAL
from local_runtime.bridges.stream_records import TTL_STREAM_IDENTITY
from local_runtime.intrinsics import UnresolvableError
from local_runtime.real_engines import DYNAMODB_LOCAL_VERSION, DynamoDbLocal
from local_runtime.template_tables import create_table_from_template

if TYPE_CHECKING:
    import boto3

    from local_runtime.deploy import DeployedStack
    from local_runtime.intrinsics import Resolver
    from local_runtime.template import TranslatedTemplate

# botocore's service-specific endpoints (service ids "DynamoDB" and "DynamoDB Streams").
ENDPOINT_VARIABLES: Final = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_DYNAMODB_STREAMS")
# A DynamoDB Local already running on this machine, to use instead of starting one.
SHARED_ENDPOINT_VARIABLE: Final = "LOCAL_DYNAMODB_ENDPOINT"
_LOOPBACK: Final = {"127.0.0.1", "localhost", "::1"}
_GET_RECORDS_LIMIT: Final = 1000
_SWEEP_EVENT_NAME: Final = "UNKNOWN_TO_SDK_VERSION"  # DynamoDB Local's own TTL deletions


def restore_empty_maps(image: Mapping[str, Any]) -> dict[str, Any]:
    """An image (or Keys) of a DynamoDB Local stream record with every empty map as AWS writes
    it. Every attribute value names its type, so a value with no type at all was an empty map."""
    return {name: _restored(value) for name, value in image.items()}


def _restored(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    if not value:
        return {"M": {}}
    if isinstance(value.get("M"), Mapping):
        return {"M": restore_empty_maps(value["M"])}
    if isinstance(value.get("L"), list):
        return {"L": [_restored(item) for item in value["L"]]}
    return dict(value)


def loopback_endpoint(url: str) -> str:
    """``url`` if it is an http endpoint on this machine (nothing may reach a real account)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "http" or parsed.hostname not in _LOOPBACK or parsed.port is None:
        raise ValueError(f"{SHARED_ENDPOINT_VARIABLE}={url!r}: expected http://127.0.0.1:<port>")
    return url


class DynamoDbLocalBackend:
    name = DYNAMODB_LOCAL
    description = f"DynamoDB Local {DYNAMODB_LOCAL_VERSION}"

    def __init__(self, endpoint_url: str | None = None) -> None:
        """``endpoint_url``: a DynamoDB Local already running (kept running, only this
        runtime's tables are dropped on stop); without it, the backend starts its own."""
        self._shared_endpoint = loopback_endpoint(endpoint_url) if endpoint_url else None
        self.server = DynamoDbLocal()
        self._owns_server = endpoint_url is None
        self._starting: concurrent.futures.Future[None] | None = None
        self._session: boto3.session.Session | None = None
        self._tables: list[str] = []
        self._routed_from: dict[str, str | None] | None = None
        self._ttl_attributes: dict[str, str] = {}  # table name → TTL attribute (template)
        self._ttl_removals: set[tuple[str, str]] = set()  # (stream ARN, sequence number)

    # ------------------------------------------------------------------ lifecycle
    def start(self, session: "boto3.session.Session") -> None:
        self._session = session
        if self._owns_server:
            # Its JVM starts (seconds) while moto deploys the stack.
            pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dynamodb-local")
            self._starting = pool.submit(self.server.start)
            pool.shutdown(wait=False)

    def create_tables(
        self, translated: "TranslatedTemplate", stack: "DeployedStack", resolver: "Resolver"
    ) -> None:
        self._wait_until_started()
        self._route_clients()
        dynamodb = self._client("dynamodb")
        for logical, resource in translated.resources_of_type("AWS::DynamoDB::Table").items():
            name = stack.resources.get(logical)
            if name is None:  # a conditional table the stack did not create
                continue
            try:
                properties = resolver.resolve(resource.get("Properties", {}))
            except UnresolvableError as error:
                raise UnresolvableError(f"table {logical} for DynamoDB Local: {error}") from error
            ttl = properties.pop("TimeToLiveSpecification", None) or {}
            if ttl.get("Enabled") in {True, "true", "True"} and ttl.get("AttributeName"):
                self._ttl_attributes[name] = str(ttl["AttributeName"])
            declared = {"Resources": {logical: {**resource, "Properties": properties}}}
            create_table_from_template(dynamodb, declared, logical, name)
            self._tables.append(name)

    def stop(self) -> None:
        with contextlib.ExitStack() as teardown:
            teardown.callback(self._unroute_clients)
            if self._owns_server:
                teardown.callback(self.server.stop)
            else:
                teardown.callback(self._drop_tables)
            if self._starting is not None:
                starting, self._starting = self._starting, None
                with contextlib.suppress(Exception):  # its error was raised by create_tables
                    starting.result()

    @property
    def endpoint_url(self) -> str:
        return self._shared_endpoint or self.server.endpoint_url

    # ------------------------------------------------------------------ streams
    def take_over_stream(self, table_name: str) -> None:
        """DynamoDB Local delivers to nothing: the stream is the bridge's already."""

    def stream_to_read(self, table_name: str, mapping_arn: str) -> str:
        arn = self._latest_stream_arn(table_name)
        if arn is None:
            raise ValueError(f"table {table_name} has no stream on DynamoDB Local ({mapping_arn})")
        return arn

    def time_to_live_attribute(self, table_name: str) -> str | None:
        dynamodb = self._client("dynamodb")
        ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") == "ENABLED" and ttl.get("AttributeName"):
            return str(ttl["AttributeName"])  # switched on by a call after the deploy
        return self._ttl_attributes.get(table_name)

    @contextlib.contextmanager
    def ttl_deletion(self, table_name: str, key: Mapping[str, Any]) -> Iterator[None]:
        """Reads the table's stream from just before the deletion to find its REMOVE record."""
        stream_arn = self._latest_stream_arn(table_name)
        if stream_arn is None:
            yield
            return
        streams = self._client("dynamodbstreams")
        description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        open_shards = [
            shard["ShardId"]
            for shard in description.get("Shards", [])
            if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})
        ]
        before = {
            shard_id: self._iterator(streams, stream_arn, shard_id, "LATEST")
            for shard_id in open_shards
        }
        yield
        for shard_id, iterator in before.items():
            try:
                number = self._removal_of(streams, iterator, dict(key), last=False)
            except streams.exceptions.TrimmedDataAccessException:
                # A LATEST iterator of an empty shard (see DynamoDbStreamsBridge._page): the
                # deletion is then the last REMOVE of that key in the whole shard.
                start = self._iterator(streams, stream_arn, shard_id, "TRIM_HORIZON")
                number = self._removal_of(streams, start, dict(key), last=True)
            if number is not None:
                self._ttl_removals.add((stream_arn, number))
                return

    def as_stored(self, stream_arn: str, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        for image in ("Keys", "NewImage", "OldImage"):
            if image in change:
                change[image] = restore_empty_maps(change[image])
        stored = {**record, "dynamodb": change}
        swept = stored.get("eventName") == _SWEEP_EVENT_NAME and "NewImage" not in change
        if swept:
            stored["eventName"] = "REMOVE"
        if swept or (stream_arn, str(change.get("SequenceNumber"))) in self._ttl_removals:
            stored["userIdentity"] = dict(TTL_STREAM_IDENTITY)
        return stored

    # ------------------------------------------------------------------ internals
    def _wait_until_started(self) -> None:
        if self._starting is not None:
            self._starting.result()  # raises what the start raised (EngineMissingError...)

    def _route_clients(self) -> None:
        if self._routed_from is None:
            self._routed_from = {name: os.environ.get(name) for name in ENDPOINT_VARIABLES}
        for name in ENDPOINT_VARIABLES:
            os.environ[name] = self.endpoint_url

    def _unroute_clients(self) -> None:
        routed_from, self._routed_from = self._routed_from, None
        for name, value in (routed_from or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _drop_tables(self) -> None:
        tables, self._tables = self._tables, []
        if not tables:
            return
        dynamodb = self._client("dynamodb")
        for name in tables:
            with contextlib.suppress(dynamodb.exceptions.ResourceNotFoundException):
                dynamodb.delete_table(TableName=name)

    def _client(self, service: str) -> Any:
        if self._session is None:
            raise RuntimeError("the DynamoDB Local backend is not started")
        return self._session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def _latest_stream_arn(self, table_name: str) -> str | None:
        table = self._client("dynamodb").describe_table(TableName=table_name)["Table"]
        arn = table.get("LatestStreamArn")
        return str(arn) if arn else None

    @staticmethod
    def _iterator(streams: Any, stream_arn: str, shard_id: str, position: str) -> str:
        opened = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType=position
        )
        return str(opened["ShardIterator"])

    @staticmethod
    def _removal_of(
        streams: Any, iterator: str | None, key: dict[str, Any], *, last: bool
    ) -> str | None:
        """The sequence number of the first (or last) REMOVE of ``key`` from ``iterator`` on."""
        found: str | None = None
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=_GET_RECORDS_LIMIT)
            records = page.get("Records", [])
            for record in records:
                change = record["dynamodb"]
                if record.get("eventName") == "REMOVE" and change.get("Keys") == key:
                    found = str(change["SequenceNumber"])
                    if not last:
                        return found
            if not records:
                break
            iterator = page.get("NextShardIterator")
        return found
