"""The default DynamoDB backend: moto, in-process, the tables moto's CloudFormation created.

What the stream bridge needs beyond the public API reaches into moto's internals, here only:
- moto's own event source mapping of a table would invoke the function through Docker and then
  empty the shard (records lost, sequence numbers restarted): ``take_over_stream`` drops it.
- moto never expires items; when the bridge deletes an expired item, ``ttl_deletion`` marks
  moto's REMOVE record with the TTL service identity. moto's StreamRecord is a dict the streams
  API serializes as is, so ``get_records`` returns the identity as AWS does for a TTL deletion.
- moto's CloudFormation drops a table's TimeToLiveSpecification: ``create_tables`` applies it.
"""

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from local_runtime.bridges.dynamodb_backend import MOTO
from local_runtime.bridges.stream_records import TTL_STREAM_IDENTITY, wire_value
from local_runtime.intrinsics import ACCOUNT_ID
from local_runtime.moto_adapter.services import dynamodb_table

if TYPE_CHECKING:
    import boto3

    from local_runtime.deploy import DeployedStack
    from local_runtime.intrinsics import Resolver
    from local_runtime.template import TranslatedTemplate

_TRUE: Final = {True, "true", "True"}


class MotoDynamoDbBackend:
    name = MOTO
    description = "moto"

    def __init__(self) -> None:
        self._session: boto3.session.Session | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, session: "boto3.session.Session") -> None:
        self._session = session

    def create_tables(
        self, translated: "TranslatedTemplate", stack: "DeployedStack", resolver: "Resolver"
    ) -> None:
        """moto's CloudFormation created the tables; only their TTL is missing."""
        dynamodb = self._require_session().client("dynamodb")
        for logical, resource in translated.resources_of_type("AWS::DynamoDB::Table").items():
            name = stack.resources.get(logical)
            spec = resolver.resolve(
                resource.get("Properties", {}).get("TimeToLiveSpecification") or {}
            )
            attribute = spec.get("AttributeName")
            if name is None or spec.get("Enabled") not in _TRUE or not isinstance(attribute, str):
                continue
            current = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") != "ENABLED":
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
                )

    def stop(self) -> None:
        self._session = None

    # ------------------------------------------------------------------ streams
    def take_over_stream(self, table_name: str) -> None:
        self._table(table_name).lambda_event_source_mappings.clear()

    def stream_to_read(self, table_name: str, mapping_arn: str) -> str:
        return mapping_arn  # the mapping reads the very stream it names

    def time_to_live_attribute(self, table_name: str) -> str | None:
        dynamodb = self._require_session().client("dynamodb")
        ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        attribute = ttl.get("AttributeName")
        return attribute if ttl.get("TimeToLiveStatus") == "ENABLED" and attribute else None

    @contextlib.contextmanager
    def ttl_deletion(self, table_name: str, key: Mapping[str, Any]) -> Iterator[None]:
        shard = getattr(self._table(table_name), "stream_shard", None)
        written_before = len(shard.items) if shard is not None else 0
        yield
        if shard is None:
            return
        removals = [
            item.record
            for item in shard.items[written_before:]
            if item.record.get("eventName") == "REMOVE" and "userIdentity" not in item.record
        ]
        wanted = json.dumps(wire_value(dict(key)), sort_keys=True)
        matching = [
            record
            for record in removals
            if json.dumps(record["dynamodb"].get("Keys"), sort_keys=True) == wanted
        ]
        for record in (matching or removals)[:1]:
            record["userIdentity"] = dict(TTL_STREAM_IDENTITY)

    def as_stored(self, stream_arn: str, record: dict[str, Any]) -> dict[str, Any]:
        return record

    # ------------------------------------------------------------------ internals
    def _require_session(self) -> "boto3.session.Session":
        if self._session is None:
            raise RuntimeError("the moto DynamoDB backend is not started")
        return self._session

    def _table(self, table_name: str) -> Any:
        region = self._require_session().region_name
        return dynamodb_table(ACCOUNT_ID, region, table_name)
