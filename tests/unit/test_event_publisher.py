"""The shared EventPublisher against botocore's Stubber (requests checked against the API model)."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from datalake_shared.event_publisher import Event, EventPublisher, EventPublishError, PutOutcome


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
