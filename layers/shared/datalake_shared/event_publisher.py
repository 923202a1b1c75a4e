"""Publishes datalake-events state changes to EventBridge so users can hook their own consumers."""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE_PREFIX: Final = "datalake-events."
# PutEvents accepts at most 10 entries per call.
MAX_ENTRIES_PER_CALL: Final = 10


class EventPublishError(RuntimeError):
    """EventBridge rejected at least one entry; the message carries its error codes."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event to put: its detail and the ARNs of the resources it is about."""

    detail: Mapping[str, Any]
    resources: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class PutOutcome:
    """What became of one event: EventBridge's id for it, or why it was not put."""

    event_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


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

    def _entry(self, detail_type: str, event: Event) -> "PutEventsRequestEntryTypeDef":
        return {
            "Source": self.source,
            "DetailType": detail_type,
            "Detail": json.dumps(event.detail, default=str, separators=(",", ":")),
            "EventBusName": self.bus_name,
            "Resources": list(event.resources),
        }

    def _chunks(
        self, detail_type: str, events: Sequence[Event]
    ) -> Iterator[list["PutEventsRequestEntryTypeDef"]]:
        for start in range(0, len(events), MAX_ENTRIES_PER_CALL):
            chunk = events[start : start + MAX_ENTRIES_PER_CALL]
            yield [self._entry(detail_type, event) for event in chunk]

    def publish(
        self,
        detail_type: str,
        details: Sequence[Mapping[str, Any]],
        resources: Sequence[str] = (),
    ) -> None:
        """All or error: raises on the first call EventBridge rejects any entry of."""
        events = [Event(detail, resources) for detail in details]
        for chunk in self._chunks(detail_type, events):
            response = self.client.put_events(Entries=chunk)
            if response.get("FailedEntryCount", 0):
                codes = sorted(
                    {e.get("ErrorCode", "unknown") for e in response["Entries"] if "ErrorCode" in e}
                )
                raise EventPublishError(f"EventBridge rejected {detail_type} events: {codes}")

    def put_each(self, detail_type: str, events: Sequence[Event]) -> list[PutOutcome]:
        """One outcome per event, in order, for callers that retry only what failed.

        Never raises for EventBridge's answer: an entry it rejected (``ErrorCode``) and every
        entry of a call that failed as a whole (throttled, unreachable...) come back with an
        ``error``; the other calls still go out.
        """
        outcomes: list[PutOutcome] = []
        for chunk in self._chunks(detail_type, events):
            try:
                response = self.client.put_events(Entries=chunk)
            except (BotoCoreError, ClientError) as error:
                outcomes.extend([PutOutcome(error=f"{type(error).__name__}: {error}")] * len(chunk))
                continue
            answers = response.get("Entries", [])
            for index in range(len(chunk)):
                answer = answers[index] if index < len(answers) else {}
                if "ErrorCode" in answer:
                    message = answer.get("ErrorMessage", "")
                    outcomes.append(PutOutcome(error=f"{answer['ErrorCode']}: {message}"))
                elif "EventId" in answer:
                    outcomes.append(PutOutcome(event_id=answer["EventId"]))
                else:
                    # No answer for the entry: not knowing it was put, report it unpublished
                    # (the caller retries; events are at-least-once).
                    outcomes.append(PutOutcome(error="NoEntryResult: EventBridge returned none"))
        return outcomes
