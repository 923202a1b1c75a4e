"""Publishes datalake-events state changes to EventBridge so users can hook their own consumers.

EventBridge's PutEvents limits live here, in one place, for every publisher (no emulator here
enforces them: moto takes any size and any number of entries):

- an entry must stay under 256 KiB, sized as AWS sizes it ("Calculating PutEvents event entry
  size"): the UTF-8 bytes of Source, DetailType, Detail and each Resource, plus 14 bytes when
  Time is set (``entry_size``);
- a call's entries together must stay under 256 KiB too, and a call takes at most 10 entries.

Calls are packed in order within both limits. An entry over the limit is never sent: it is
logged as an error and reported (``PutOutcome.too_large``, or ``EntryTooLargeError`` from
``publish``), since sending it again unchanged can never succeed; the caller fails the record it
announces so that the record is retried and then dead-lettered, never dropped. A detail that
carries a long list can be announced in several entries that each fit with ``split_detail``.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final, Protocol

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from datalake_shared.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

SOURCE_PREFIX: Final = "datalake-events."
MAX_ENTRIES_PER_CALL: Final = 10
"""PutEvents accepts at most 10 entries per call."""
MAX_ENTRY_BYTES: Final = 256 * 1024 - 1
"""The largest entry AWS accepts: "the total entry size must be less than 256KB"."""
MAX_CALL_BYTES: Final = 256 * 1024 - 1
"""The largest sum of the entry sizes of one PutEvents call."""
TIME_BYTES: Final = 14
"""What a set ``Time`` counts for in an entry's size."""
ENTRY_TOO_LARGE: Final = "EntryTooLarge"
PART_FIELD: Final = "part"
PARTS_FIELD: Final = "parts"


class EventPublishError(RuntimeError):
    """EventBridge rejected at least one entry; the message carries its error codes."""


class EntryTooLargeError(EventPublishError):
    """An entry is over EventBridge's size limit: it was not sent and never can be as it is."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event to put: its detail and the ARNs of the resources it is about."""

    detail: Mapping[str, Any]
    resources: Sequence[str] = ()


class EventSink(Protocol):
    """What a service announces through: ``EventPublisher`` on AWS, a recording fake in tests."""

    def publish(
        self,
        detail_type: str,
        details: Sequence[Mapping[str, Any]],
        resources: Sequence[str] = (),
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class PutOutcome:
    """What became of one event: EventBridge's id for it, or why it was not put."""

    event_id: str | None = None
    error: str | None = None
    too_large: bool = False
    """Over the entry size limit: never sent; retrying it unchanged cannot succeed."""

    @property
    def ok(self) -> bool:
        return self.error is None


def failure_of(outcomes: Sequence[PutOutcome]) -> PutOutcome | None:
    """None when every event of one announcement was put, else one failed outcome saying how
    many were not and why (``too_large`` when any of them was too large)."""
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if not failed:
        return None
    too_large = [outcome for outcome in failed if outcome.too_large]
    first = (too_large or failed)[0]
    if len(outcomes) == 1:
        return first
    error = f"{len(failed)} of {len(outcomes)} events not put; {first.error}"
    return PutOutcome(error=error, too_large=bool(too_large))


def _utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def detail_json(detail: Any) -> str:
    """How a detail (or any part of one) is serialised into an entry."""
    return json.dumps(detail, default=str, separators=(",", ":"))


def entry_size(entry: "PutEventsRequestEntryTypeDef") -> int:
    """The entry's size as EventBridge computes it for its limits."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if isinstance(value, str):
            size += _utf8_bytes(value)
    return size + sum(_utf8_bytes(resource) for resource in entry.get("Resources", ()))


def pack_calls(sizes: Sequence[int]) -> list[list[int]]:
    """Indexes of the entries that fit (in order) grouped into calls of at most 10 entries
    and ``MAX_CALL_BYTES``; entries over ``MAX_ENTRY_BYTES`` are left out."""
    calls: list[list[int]] = []
    current: list[int] = []
    used = 0
    for index, size in enumerate(sizes):
        if size > MAX_ENTRY_BYTES:
            continue
        if current and (len(current) == MAX_ENTRIES_PER_CALL or used + size > MAX_CALL_BYTES):
            calls.append(current)
            current, used = [], 0
        current.append(index)
        used += size
    if current:
        calls.append(current)
    return calls


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

    def entry(self, detail_type: str, event: Event) -> "PutEventsRequestEntryTypeDef":
        return {
            "Source": self.source,
            "DetailType": detail_type,
            "Detail": detail_json(event.detail),
            "EventBusName": self.bus_name,
            "Resources": list(event.resources),
        }

    def split_detail(
        self,
        detail_type: str,
        detail: Mapping[str, Any],
        field: str,
        resources: Sequence[str] = (),
    ) -> list[Event]:
        """``detail`` as the fewest events whose entries each fit, its list ``field`` cut in
        order into consecutive runs (joined again, the runs are the whole list: nothing is
        lost, and the same detail always splits the same way). Each event also carries
        ``part`` (from 1) and ``parts``. An item too large for an entry of its own still gets
        one, which ``put_each`` reports as too large."""
        items = list(detail[field])
        # Measured with the largest part numbers there can be: the digits only ever shrink.
        most = max(len(items), 1)
        empty = Event({**detail, field: [], PART_FIELD: most, PARTS_FIELD: most}, resources)
        room = MAX_ENTRY_BYTES - entry_size(self.entry(detail_type, empty))
        runs: list[list[Any]] = [[]]
        used = 0
        for item in items:
            size = _utf8_bytes(detail_json(item))
            if runs[-1] and used + 1 + size > room:  # 1: the comma before it
                runs.append([])
                used = 0
            used += size + (1 if runs[-1] else 0)
            runs[-1].append(item)
        return [
            Event({**detail, field: run, PART_FIELD: part, PARTS_FIELD: len(runs)}, resources)
            for part, run in enumerate(runs, 1)
        ]

    def _too_large(self, detail_type: str, size: int) -> str:
        message = (
            f"{ENTRY_TOO_LARGE}: a {detail_type!r} entry of {self.source} is {size} bytes; "
            f"EventBridge takes at most {MAX_ENTRY_BYTES}"
        )
        logger.error(
            "EventBridge entry too large: not sent",
            extra={
                "source": self.source,
                "detail_type": detail_type,
                "entry_bytes": size,
                "max_entry_bytes": MAX_ENTRY_BYTES,
            },
        )
        return message

    def _calls(
        self, detail_type: str, events: Sequence[Event]
    ) -> tuple[dict[int, str], Iterator[list[tuple[int, "PutEventsRequestEntryTypeDef"]]]]:
        """(index -> error of each entry too large, the calls of the others with indexes)."""
        entries = [self.entry(detail_type, event) for event in events]
        sizes = [entry_size(entry) for entry in entries]
        too_large = {
            index: self._too_large(detail_type, size)
            for index, size in enumerate(sizes)
            if size > MAX_ENTRY_BYTES
        }
        calls = ([(index, entries[index]) for index in call] for call in pack_calls(sizes))
        return too_large, calls

    def publish(
        self,
        detail_type: str,
        details: Sequence[Mapping[str, Any]],
        resources: Sequence[str] = (),
    ) -> None:
        """All or error: raises ``EntryTooLargeError`` before any call when an entry is too
        large, else on the first call EventBridge rejects any entry of."""
        events = [Event(detail, resources) for detail in details]
        too_large, calls = self._calls(detail_type, events)
        if too_large:
            raise EntryTooLargeError("; ".join(too_large.values()))
        for call in calls:
            response = self.client.put_events(Entries=[entry for _, entry in call])
            if response.get("FailedEntryCount", 0):
                codes = sorted(
                    {e.get("ErrorCode", "unknown") for e in response["Entries"] if "ErrorCode" in e}
                )
                raise EventPublishError(f"EventBridge rejected {detail_type} events: {codes}")

    def put_each(self, detail_type: str, events: Sequence[Event]) -> list[PutOutcome]:
        """One outcome per event, in order, for callers that retry only what failed.

        Never raises for EventBridge's answer: an entry too large (never sent, ``too_large``),
        an entry it rejected (``ErrorCode``) and every entry of a call that failed as a whole
        (throttled, unreachable...) come back with an ``error``; the other calls still go out.
        """
        too_large, calls = self._calls(detail_type, events)
        outcomes: dict[int, PutOutcome] = {
            index: PutOutcome(error=error, too_large=True) for index, error in too_large.items()
        }
        for call in calls:
            indexes = [index for index, _ in call]
            try:
                response = self.client.put_events(Entries=[entry for _, entry in call])
            except (BotoCoreError, ClientError) as error:
                failure = PutOutcome(error=f"{type(error).__name__}: {error}")
                outcomes.update(dict.fromkeys(indexes, failure))
                continue
            answers = response.get("Entries", [])
            for position, index in enumerate(indexes):
                answer = answers[position] if position < len(answers) else {}
                if "ErrorCode" in answer:
                    message = answer.get("ErrorMessage", "")
                    outcomes[index] = PutOutcome(error=f"{answer['ErrorCode']}: {message}")
                elif "EventId" in answer:
                    outcomes[index] = PutOutcome(event_id=answer["EventId"])
                else:
                    # No answer for the entry: not knowing it was put, report it unpublished
                    # (the caller retries; events are at-least-once).
                    outcomes[index] = PutOutcome(error="NoEntryResult: EventBridge returned none")
        return [outcomes[index] for index in range(len(events))]


def report_unannounced(
    detail_type: str,
    *,
    too_large: bool,
    error: str | None,
    facts: Mapping[str, Any],
    too_large_consequence: str,
) -> None:
    """Logs and counts an announcement that was not put: too large (EventsTooLarge, an error:
    sending it again can never succeed, ``too_large_consequence`` says what happens then) or
    refused for now (EventPublishFailed, a warning). Nothing when it was put."""
    if too_large:
        metrics.add_metric(name="EventsTooLarge", unit=MetricUnit.Count, value=1)
        logger.error(
            f"{detail_type} too large for EventBridge; {too_large_consequence}",
            extra={**facts, "error": error},
        )
    elif error:
        metrics.add_metric(name="EventPublishFailed", unit=MetricUnit.Count, value=1)
        logger.warning(f"{detail_type} not published", extra={**facts, "error": error})
