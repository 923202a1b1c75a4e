"""What SQS guarantees of a batch, for the sample events of the functions SQS feeds."""

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

Record = Mapping[str, Any]


def md5_of_body(body: str) -> str:
    """A record's ``md5OfBody``, as SQS computes it."""
    return hashlib.md5(body.encode()).hexdigest()  # noqa: S324 - SQS's checksum, not security


def redelivery_problems(original: Sequence[Record], again: Sequence[Record]) -> list[str]:
    """How ``again`` differs from ``original`` delivered a second time: the same message ids and
    bodies, new receipt handles, an ApproximateReceiveCount of 2."""
    problems = []
    if [(r["messageId"], r["body"]) for r in again] != [
        (r["messageId"], r["body"]) for r in original
    ]:
        problems.append("not the same messages and bodies")
    if any(a["receiptHandle"] == o["receiptHandle"] for a, o in zip(again, original, strict=True)):
        problems.append("a receipt handle is not new")
    if {r["attributes"]["ApproximateReceiveCount"] for r in again} != {"2"}:
        problems.append("a receive count is not 2")
    return problems


def validation_outcomes(model: type[BaseModel], records: Sequence[Record]) -> list[str]:
    """ "ok" or "invalid" for each record, as ``model`` validates it."""
    outcomes = []
    for record in records:
        try:
            model.model_validate(record)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("invalid")
    return outcomes
