"""Publishes datalake-events state changes to EventBridge so users can hook their own consumers."""

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE_PREFIX = "datalake-events."
# PutEvents accepts at most 10 entries per call.
_MAX_ENTRIES_PER_CALL = 10


class EventPublishError(RuntimeError):
    """EventBridge rejected at least one entry; the message carries its error codes."""


class EventPublisher:
    """Puts events with source "datalake-events.<component>" on one bus."""

    def __init__(
        self, component: str, bus_name: str, client: "EventBridgeClient | None" = None
    ) -> None:
        self.source = f"{SOURCE_PREFIX}{component}"
        self.bus_name = bus_name
        self._client = client

    @cached_property
    def client(self) -> "EventBridgeClient":
        return self._client or boto3.client("events")

    def publish(
        self,
        detail_type: str,
        details: Sequence[Mapping[str, Any]],
        resources: Sequence[str] = (),
    ) -> None:
        entries: list[PutEventsRequestEntryTypeDef] = [
            {
                "Source": self.source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, default=str, separators=(",", ":")),
                "EventBusName": self.bus_name,
                "Resources": list(resources),
            }
            for detail in details
        ]
        for start in range(0, len(entries), _MAX_ENTRIES_PER_CALL):
            chunk = entries[start : start + _MAX_ENTRIES_PER_CALL]
            response = self.client.put_events(Entries=chunk)
            if response.get("FailedEntryCount", 0):
                codes = sorted(
                    {e.get("ErrorCode", "unknown") for e in response["Entries"] if "ErrorCode" in e}
                )
                raise EventPublishError(f"EventBridge rejected {detail_type} events: {codes}")
