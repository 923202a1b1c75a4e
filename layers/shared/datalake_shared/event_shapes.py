"""Telling an event of the wrong shape from a bad record of the right one.

A misrouted rule, a console test invoke or a mistyped `sam local invoke -e` hands a function an
event of another service. Such an event has no record a batch response could name, so it is
rejected whole: logged and counted (``UnexpectedEvents``) with the shape that was expected and
the one that came, then raised as ``EventShapeError``. Raising, not returning, is what keeps it:
an asynchronous invocation is retried and then sent to the function's on-failure destination,
and a synchronous caller sees the message.
"""

from collections.abc import Mapping
from typing import Any, Final, NoReturn

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from datalake_shared.observability import logger, metrics
from datalake_shared.validation import describe_validation_error

UNEXPECTED_EVENTS_METRIC: Final = "UnexpectedEvents"
SQS_BATCH: Final = "an SQS batch (Records[] with eventSource 'aws:sqs')"
DYNAMODB_STREAM_BATCH: Final = "a DynamoDB stream batch (Records[] with eventSource 'aws:dynamodb')"
_MAX_KEYS_NAMED: Final = 8
_MAX_TEXT: Final = 60
_MAX_PROBLEMS: Final = 5
# Top-level keys that name an event's service when it has neither Records nor detail-type.
_NAMED_BY_KEY: Final = (
    ("awslogs", "a CloudWatch Logs subscription event"),
    ("CodePipeline.job", "a CodePipeline job event"),
    ("requestContext", "an API Gateway or ALB request"),
)


class EventShapeError(ValueError):
    """The event is not of the shape the function takes; says which it expected and what came."""

    def __init__(self, expected: str, event: object, problem: str = "") -> None:
        self.expected = expected
        self.received = describe_event(event)
        self.problem = problem
        detail = f" ({problem})" if problem else ""
        super().__init__(f"expected {expected}; got {self.received}{detail}")


def _text(value: object) -> str:
    # repr() for anything but plain printable text: a key may hold a newline or a control code.
    text = value if isinstance(value, str) and value.isprintable() else repr(value)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _record_source(record: object) -> str | None:
    if not isinstance(record, Mapping):
        return None
    # SQS, S3, DynamoDB and Kinesis say eventSource; SNS and SES say EventSource.
    for field in ("eventSource", "EventSource"):
        source = record.get(field)
        if isinstance(source, str):
            return source
    return None


def describe_event(event: object) -> str:
    """A short name for an event's shape, for error messages (never its values in full)."""
    if not isinstance(event, Mapping):
        return f"a JSON {type(event).__name__}" if event is not None else "null"
    records = event.get("Records")
    if isinstance(records, list):
        return _describe_records(records)
    if "detail-type" in event and "source" in event:
        return (
            f"an EventBridge event (source {_text(event['source'])}, "
            f"detail-type {_text(event['detail-type'])})"
        )
    named = next((name for key, name in _NAMED_BY_KEY if key in event), None)
    return named or _describe_keys(event)


def _describe_records(records: list[Any]) -> str:
    if not records:
        return "an empty 'Records' list"
    sources = sorted({_record_source(record) or "no eventSource" for record in records})
    return f"{len(records)} record(s) from {', '.join(_text(s) for s in sources)}"


def _describe_keys(event: Mapping[Any, Any]) -> str:
    if not event:
        return "an empty object"
    keys = sorted(str(key) for key in event)
    more = f" and {len(keys) - _MAX_KEYS_NAMED} more" if len(keys) > _MAX_KEYS_NAMED else ""
    return f"an object with keys {', '.join(_text(k) for k in keys[:_MAX_KEYS_NAMED])}{more}"


def reject(error: EventShapeError) -> NoReturn:
    """Logs and counts the rejection, then raises it."""
    metrics.add_metric(name=UNEXPECTED_EVENTS_METRIC, unit=MetricUnit.Count, value=1)
    logger.error(
        "Event of an unexpected shape rejected",
        extra={"expected": error.expected, "received": error.received, "problem": error.problem},
    )
    raise error


def batch_records(event: object, *, source: str, expected: str) -> list[dict[str, Any]]:
    """The records of a batch whose every record comes from ``source`` (e.g. ``aws:sqs``);
    anything else is rejected whole, since no record of it has an id to report as failed."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not records:
        reject(EventShapeError(expected, event))
    for position, record in enumerate(records):
        if _record_source(record) != source:
            reject(EventShapeError(expected, event, f"Records[{position}] is not from {source}"))
    return records


def validated_event[Model: BaseModel](model: type[Model], event: object, expected: str) -> Model:
    """``event`` as ``model``, or rejected naming every field that did not fit."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        reject(
            EventShapeError(expected, event, describe_validation_error(error, most=_MAX_PROBLEMS))
        )
