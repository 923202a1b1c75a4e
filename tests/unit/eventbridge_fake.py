"""The EventBridge fakes of every function's tests: a client answering ``put_events`` as the
service does, and a publisher recording what a function announces, with the failures asked for."""

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from eventbridge_limits import refuse_like_aws

from datalake_shared.event_publisher import EntryTooLargeError


@dataclass
class FakeEventsClient:
    """Refuses a request over AWS's limits (ValidationException), as AWS does.

    - ``outages``: numbers (0-based) of the calls that fail as a whole (``fail_next`` adds the
      next ones); ``fail_all`` fails every call.
    - ``rejections``: the "key" of an entry's detail -> how many times that entry is rejected
      on its own (``ErrorCode`` in the answer, counted in ``FailedEntryCount``).
    - ``calls`` records the entries of every call, ``accepted`` those put on the bus.
    """

    outages: set[int] = field(default_factory=set)
    fail_all: bool = False
    rejections: dict[str, int] = field(default_factory=dict)
    calls: list[list[dict[str, Any]]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        refuse_like_aws(Entries)
        call_number = len(self.calls)
        self.calls.append(list(Entries))
        if self.fail_all or call_number in self.outages:
            raise ClientError(
                {"Error": {"Code": "InternalException", "Message": "Service unavailable"}},
                "PutEvents",
            )
        answers: list[dict[str, str]] = []
        for entry in Entries:
            key = json.loads(entry["Detail"]).get("key", "")
            if self.rejections.get(key, 0):
                self.rejections[key] -= 1
                answers.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                self.accepted.append(entry)
                answers.append({"EventId": str(uuid.uuid4())})
        failed = sum("ErrorCode" in answer for answer in answers)
        return {"FailedEntryCount": failed, "Entries": answers}

    def fail_next(self, calls: int) -> None:
        self.outages |= set(range(len(self.calls), len(self.calls) + calls))

    @property
    def entries(self) -> list[dict[str, Any]]:
        return self.accepted

    def details(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """The accepted entries' details (of one detail type, if given), in order."""
        return [
            json.loads(entry["Detail"])
            for entry in self.accepted
            if detail_type is None or entry["DetailType"] == detail_type
        ]


@dataclass
class RecordingPublisher:
    """Stands in for the shared ``EventPublisher``: records (detail type, detail, resources).

    - ``failing``: every publish fails as a throttled PutEvents call.
    - ``too_large``: every publish is refused as the publisher refuses an entry over
      EventBridge's size limit.
    """

    published: list[tuple[str, dict[str, Any], list[str]]] = field(default_factory=list)
    failing: bool = False
    too_large: bool = False

    def publish(
        self,
        detail_type: str,
        details: Sequence[Mapping[str, Any]],
        resources: Sequence[str] = (),
    ) -> None:
        if self.too_large:
            raise EntryTooLargeError(f"EntryTooLarge: a {detail_type!r} entry is 300000 bytes")
        if self.failing:
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutEvents"
            )
        self.published.extend((detail_type, dict(detail), list(resources)) for detail in details)

    def types(self) -> list[str]:
        return [detail_type for detail_type, _, _ in self.published]
