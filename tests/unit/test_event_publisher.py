"""The shared EventPublisher against botocore's Stubber (requests checked against the API model),
and EventBridge's size limits, checked against an oracle written from AWS's documentation."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from eventbridge_limits import aws_entry_size
from hypothesis import given, settings
from hypothesis import strategies as st
from lambda_support import CapturedLogs

from datalake_shared.event_publisher import (
    ENTRY_TOO_LARGE,
    MAX_ENTRIES_PER_CALL,
    MAX_ENTRY_BYTES,
    EntryTooLargeError,
    Event,
    EventPublisher,
    EventPublishError,
    PutOutcome,
    entry_size,
    failure_of,
    pack_calls,
)


@pytest.fixture
def client() -> Any:
    return boto3.client("events")


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def publisher(client: Any) -> EventPublisher:
    return EventPublisher(component="tests", bus_name="bus", client=client)


def entries(numbers: range) -> list[dict[str, Any]]:
    return [
        {
            "Source": "datalake-events.tests",
            "DetailType": "Thing Happened",
            "Detail": json.dumps({"n": n}, separators=(",", ":")),
            "EventBusName": "bus",
            "Resources": [f"arn:aws:s3:::bucket/{n}"],
        }
        for n in numbers
    ]


def accepted(numbers: range) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e{n}"} for n in numbers]}


def events(count: int) -> list[Event]:
    return [Event({"n": n}, [f"arn:aws:s3:::bucket/{n}"]) for n in range(count)]


def test_put_each_sends_ten_entries_per_call_and_returns_their_ids(
    client: Any, stub: Stubber
) -> None:
    # Given 12 events and EventBridge accepting them in calls of 10 and 2
    stub.add_response("put_events", accepted(range(10)), {"Entries": entries(range(10))})
    stub.add_response("put_events", accepted(range(10, 12)), {"Entries": entries(range(10, 12))})
    # When they are put
    outcomes = publisher(client).put_each("Thing Happened", events(12))
    # Then each has its event id, in order
    assert outcomes == [PutOutcome(event_id=f"e{n}") for n in range(12)]


def test_put_each_reports_rejected_entries_without_raising(client: Any, stub: Stubber) -> None:
    # Given EventBridge rejecting the second of three entries
    stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [
                {"EventId": "e0"},
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"},
                {"EventId": "e2"},
            ],
        },
        {"Entries": entries(range(3))},
    )
    # When they are put
    outcomes = publisher(client).put_each("Thing Happened", events(3))
    # Then only that entry carries an error
    assert [outcome.ok for outcome in outcomes] == [True, False, True]
    assert outcomes[1].error == "ThrottlingException: Rate exceeded"


def test_put_each_fails_every_entry_of_a_call_that_raised_and_goes_on(
    client: Any, stub: Stubber
) -> None:
    # Given 12 events and the first of two calls failing as a whole
    stub.add_client_error("put_events", "InternalException", "Service unavailable")
    stub.add_response("put_events", accepted(range(10, 12)), {"Entries": entries(range(10, 12))})
    # When they are put
    outcomes = publisher(client).put_each("Thing Happened", events(12))
    # Then the ten entries of the failed call carry its error, and the last two were put
    assert {outcome.error for outcome in outcomes[:10]} == {
        "InternalException: An error occurred (InternalException) when calling the PutEvents "
        "operation: Service unavailable"
    }
    assert outcomes[10:] == [PutOutcome(event_id="e10"), PutOutcome(event_id="e11")]


def test_put_each_reports_an_entry_without_answer_as_not_put(client: Any, stub: Stubber) -> None:
    # Given EventBridge answering for only the first of two entries
    stub.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "e0"}]},
        {"Entries": entries(range(2))},
    )
    # When they are put
    outcomes = publisher(client).put_each("Thing Happened", events(2))
    # Then the unanswered one is reported not put (retrying it is the safe side)
    assert [outcome.ok for outcome in outcomes] == [True, False]


def test_put_each_of_nothing_makes_no_call(client: Any, stub: Stubber) -> None:
    # Given no events / When put / Then no call is made (the stub has no response queued)
    assert publisher(client).put_each("Thing Happened", []) == []


def test_publish_still_raises_when_an_entry_is_rejected(client: Any, stub: Stubber) -> None:
    # Given EventBridge rejecting one entry of a publish
    stub.add_response(
        "put_events",
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]},
        {"Entries": entries(range(1))},
    )
    # When published / Then the error names EventBridge's code
    with pytest.raises(EventPublishError, match="InternalFailure"):
        publisher(client).publish("Thing Happened", [{"n": 0}], ["arn:aws:s3:::bucket/0"])


# --- EventBridge's size limits ---------------------------------------------------------------


def sized(n: int, detail_bytes: int) -> Event:
    """An event whose Detail serialises to exactly ``detail_bytes`` bytes ({"n":...,"pad":...})."""
    overhead = len(json.dumps({"n": n, "pad": ""}, separators=(",", ":")))
    return Event({"n": n, "pad": "x" * (detail_bytes - overhead)}, [f"arn:aws:s3:::bucket/{n}"])


def entries_of(events_: list[Event]) -> list[dict[str, Any]]:
    return [
        {
            "Source": "datalake-events.tests",
            "DetailType": "Thing Happened",
            "Detail": json.dumps(event.detail, separators=(",", ":")),
            "EventBusName": "bus",
            "Resources": list(event.resources),
        }
        for event in events_
    ]


def test_entry_size_is_what_aws_counts() -> None:
    # Given an entry with multi-byte characters, two resources and a Time
    entry: Any = {
        "Source": "datalake-events.tests",  # 21 bytes
        "DetailType": "Thing Happened",  # 14 bytes
        "Detail": '{"name":"é€😀"}',  # 11 ASCII + 2 + 3 + 4 bytes
        "EventBusName": "a bus name that does not count",
        "Resources": ["arn:1", "arn:22"],  # 5 + 6 bytes
        "Time": "2026-11-22T10:00:00Z",
    }
    # When sized / Then it is the UTF-8 bytes of Source, DetailType, Detail, Resources + 14
    assert entry_size(entry) == 21 + 14 + 20 + 11 + 14 == aws_entry_size(entry)


def test_put_each_packs_calls_under_the_request_size_limit(client: Any, stub: Stubber) -> None:
    # Given three events of 100 KB each: ten would fit the count, not the 256 KiB per request
    events_ = [sized(n, 100_000) for n in range(3)]
    stub.add_response("put_events", accepted(range(2)), {"Entries": entries_of(events_[:2])})
    stub.add_response("put_events", accepted(range(2, 3)), {"Entries": entries_of(events_[2:])})
    # When they are put
    outcomes = publisher(client).put_each("Thing Happened", events_)
    # Then they went in two calls (2 + 1), each under the limit, and all were put
    assert [outcome.event_id for outcome in outcomes] == ["e0", "e1", "e2"]


def test_put_each_never_sends_an_entry_over_the_limit(
    client: Any, stub: Stubber, logs: CapturedLogs
) -> None:
    # Given a 300 KB event between two small ones
    events_ = [sized(0, 100), sized(1, 300_000), sized(2, 100)]
    stub.add_response(
        "put_events", accepted(range(2)), {"Entries": entries_of([events_[0], events_[2]])}
    )
    # When they are put
    outcomes = publisher(client).put_each("Thing Happened", events_)
    # Then the small ones were put, the large one was not sent and is reported too large...
    assert [(o.event_id, o.too_large) for o in outcomes] == [
        ("e0", False),
        (None, True),
        ("e1", False),
    ]
    assert outcomes[1].error is not None
    assert outcomes[1].error.startswith(f"{ENTRY_TOO_LARGE}:")
    # ...with an error in the log naming its size
    [error] = [record for record in logs.records() if record["level"] == "ERROR"]
    assert (error["detail_type"], error["entry_bytes"]) == (
        "Thing Happened",
        aws_entry_size(entries_of([events_[1]])[0]),
    )


def test_publish_of_an_entry_over_the_limit_raises_before_any_call(
    client: Any, stub: Stubber
) -> None:
    # Given one small and one 300 KB detail / When published (the stub has no response queued)
    # Then nothing is sent and the error says the entry is too large
    with pytest.raises(EntryTooLargeError, match=ENTRY_TOO_LARGE):
        publisher(client).publish("Thing Happened", [{"n": 0}, {"pad": "x" * 300_000}])


@given(st.lists(st.integers(min_value=1, max_value=300_000), max_size=40))
def test_calls_keep_order_and_every_limit(sizes: list[int]) -> None:
    # Given entries of any sizes / When packed into calls
    calls = pack_calls(sizes)
    # Then the entries that fit are all there, in order, and only they
    assert [index for call in calls for index in call] == [
        index for index, size in enumerate(sizes) if size <= MAX_ENTRY_BYTES
    ]
    # ...each call has 1 to 10 entries and stays under the request limit
    for call in calls:
        assert 1 <= len(call) <= MAX_ENTRIES_PER_CALL
        assert sum(sizes[index] for index in call) < 256 * 1024


item_texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=3000)


@settings(max_examples=60, deadline=None)
@given(st.lists(item_texts, max_size=400), st.text(max_size=50))
def test_split_detail_fits_every_entry_and_loses_nothing(items: list[str], name: str) -> None:
    # Given a detail with a list of any length and content (multi-byte text included)
    detail = {"name": name, "items": items}
    events_ = publisher(None).split_detail("Thing Happened", detail, "items", ["arn:aws:s3:::b/k"])
    entries_ = [publisher(None).entry("Thing Happened", event) for event in events_]
    # Then each entry fits, parts are numbered 1..n, and the parts' items are the list, in order
    assert all(aws_entry_size(entry) < 256 * 1024 for entry in entries_)
    assert [(e.detail["part"], e.detail["parts"]) for e in events_] == [
        (part, len(events_)) for part in range(1, len(events_) + 1)
    ]
    assert [item for event in events_ for item in event.detail["items"]] == items
    assert all(event.detail["name"] == name for event in events_)


def test_split_detail_uses_few_entries() -> None:
    # Given 2,000 items of 200 bytes (about 420 KB in all)
    items = ["x" * 200] * 2000
    # When split
    events_ = publisher(None).split_detail("Thing Happened", {"items": items}, "items")
    # Then two entries hold them, the first filled to within an item of the limit
    assert [len(event.detail["items"]) for event in events_] == [1290, 710]
    first = publisher(None).entry("Thing Happened", events_[0])
    assert 256 * 1024 - 2 * 203 < aws_entry_size(first) < 256 * 1024


def test_split_detail_of_a_small_detail_is_one_event_of_one_part() -> None:
    # Given a small detail / When split / Then one event: the detail, part 1 of 1
    [event] = publisher(None).split_detail("Thing Happened", {"items": [1, 2], "k": "v"}, "items")
    assert event.detail == {"items": [1, 2], "k": "v", "part": 1, "parts": 1}


def test_split_detail_is_deterministic() -> None:
    # Given the same detail split twice / Then the events are the same
    detail = {"items": [f"item {n} " * (n % 50) for n in range(3000)]}
    assert publisher(None).split_detail("T", detail, "items") == publisher(None).split_detail(
        "T", detail, "items"
    )


def test_an_item_too_large_for_any_entry_gets_its_own_and_is_reported(
    client: Any, stub: Stubber
) -> None:
    # Given a list whose middle item alone is over the limit
    detail = {"items": ["a", "x" * 300_000, "b"]}
    split = publisher(client).split_detail("Thing Happened", detail, "items")
    stub.add_response(
        "put_events",
        accepted(range(2)),
        {"Entries": [publisher(client).entry("Thing Happened", split[i]) for i in (0, 2)]},
    )
    # When the parts are put
    outcomes = publisher(client).put_each("Thing Happened", split)
    # Then it is alone in its part, the only one reported too large
    assert [event.detail["items"] for event in split][0::2] == [["a"], ["b"]]
    assert [outcome.too_large for outcome in outcomes] == [False, True, False]


def test_failure_of_an_announcement_says_how_many_parts_failed_and_whether_too_large() -> None:
    # Given three parts, one throttled and one too large
    outcomes = [
        PutOutcome(event_id="e0"),
        PutOutcome(error="ThrottlingException: slow down"),
        PutOutcome(error="EntryTooLarge: 300000 bytes", too_large=True),
    ]
    # When summarised / Then the summary counts the failures and leads with the too-large one
    assert failure_of(outcomes) == PutOutcome(
        error="2 of 3 events not put; EntryTooLarge: 300000 bytes", too_large=True
    )


def test_failure_of_an_announcement_put_whole_is_none() -> None:
    # Given every part put / When summarised / Then there is no failure
    assert failure_of([PutOutcome(event_id="e0"), PutOutcome(event_id="e1")]) is None
