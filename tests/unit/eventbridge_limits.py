"""PutEvents limits as AWS enforces them (moto takes anything), for EventBridge fakes to refuse
what AWS refuses.

Written from AWS's documentation ("Calculating Amazon EventBridge PutEvents event entry size";
PutEvents takes 1 to 10 entries), apart from the code under test, so that a test cannot pass by
the code agreeing with itself.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Final

from botocore.exceptions import ClientError

LIMIT_BYTES: Final = 256 * 1024
"""An entry, and a request's entries together, must be less than this."""


def aws_entry_size(entry: Mapping[str, Any]) -> int:
    """Time: 14 bytes when set; Source, DetailType, Detail and each Resource: their UTF-8 bytes."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        if entry.get(name) is not None:
            size += len(entry[name].encode("utf-8"))
    return size + sum(len(resource.encode("utf-8")) for resource in entry.get("Resources") or [])


def put_events_violation(entries: Sequence[Mapping[str, Any]]) -> str | None:
    """Why AWS would refuse this PutEvents request, or None."""
    if not 1 <= len(entries) <= 10:
        return f"{len(entries)} entries: PutEvents takes 1 to 10"
    sizes = [aws_entry_size(entry) for entry in entries]
    if max(sizes) >= LIMIT_BYTES:
        return f"an entry of {max(sizes)} bytes: entries must be less than {LIMIT_BYTES}"
    if sum(sizes) >= LIMIT_BYTES:
        return f"entries of {sum(sizes)} bytes in all: a request must be less than {LIMIT_BYTES}"
    return None


def refuse_like_aws(entries: Sequence[Mapping[str, Any]]) -> None:
    """Raises the ValidationException AWS answers a request over its limits with."""
    violation = put_events_violation(entries)
    if violation is not None:
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": violation}}, "PutEvents"
        )
