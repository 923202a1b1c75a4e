"""Telling an event of the wrong shape from a bad record of the right one.

A misrouted rule, a console test invoke or a mistyped `sam local invoke -e` hands a function an
event of another service. Such an event has no record a batch response could name, so it is
rejected whole: logged and counted (``UnexpectedEvents``) with the shape that was expected and
the one that came, then raised as ``EventShapeError``. The description names the service, the
source or detail-type and the top-level keys, a few of each, cut short: never the event's data.
Raising, not returning, is what keeps the event: an asynchronous invocation is retried and then
sent to the function's on-failure destination, and a synchronous caller sees the message.
"""

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, NoReturn

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from datalake_shared.observability import logger, metrics
from datalake_shared.validation import MAX_REPORTED_PROBLEMS, describe_validation_error

UNEXPECTED_EVENTS_METRIC: Final = "UnexpectedEvents"
SQS_BATCH: Final = "an SQS batch (Records[] with eventSource 'aws:sqs')"
DYNAMODB_STREAM_BATCH: Final = "a DynamoDB stream batch (Records[] with eventSource 'aws:dynamodb')"
_MAX_NAMED: Final = 8
_MAX_TEXT: Final = 60
# Top-level keys that name an event's service when it has neither Records nor detail-type.
_NAMED_BY_KEY: Final = (
    ("awslogs", "a CloudWatch Logs subscription event"),
    ("CodePipeline.job", "a CodePipeline job event"),
    ("requestContext", "an API Gateway or ALB request"),
)


def is_valid_unicode(text: str) -> bool:
    """False when the text holds a lone surrogate: JSON allows "\\ud800", UTF-8 does not, and
    encoding it later (a hash, an S3 key, a log line, a message) would fail far from the event."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def without_lone_surrogates(text: str) -> str:
    """The text with each lone surrogate as "?" (the text itself when it has none)."""
    return text if is_valid_unicode(text) else text.encode(errors="replace").decode()


# A \uD800-\uDFFF escape: the only way JSON text that is valid Unicode decodes to a lone one.
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def decodes_to_lone_surrogate(json_text: str, decoded: Any) -> bool:
    """Whether ``decoded`` (``json.loads(json_text)``) holds a lone surrogate. Checked by value
    only when the text has a surrogate escape at all: a pair (an emoji) is one too."""
    if not is_valid_unicode(json_text):
        return True
    if _SURROGATE_ESCAPE.search(json_text) is None:
        return False
    return not is_valid_unicode(json.dumps(decoded, ensure_ascii=False))


def _utf8(value: str) -> str:
    if not is_valid_unicode(value):
        raise ValueError("must be valid Unicode (it holds a lone surrogate)")
    return value


Utf8Text = Annotated[str, AfterValidator(_utf8)]
"""Text that encodes as UTF-8."""
NameText = Annotated[str, Field(min_length=1), AfterValidator(_utf8)]
"""A non-empty name or key that encodes as UTF-8, as every AWS name and S3 key does."""


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


def record_source(record: object) -> str | None:
    """A record's event source (``aws:sqs``, ``aws:dynamodb``...); None when it names none."""
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
    sources = sorted({record_source(record) or "no eventSource" for record in records})
    return f"{len(records)} record(s) from {_named(sources)}"


def _describe_keys(event: Mapping[Any, Any]) -> str:
    if not event:
        return "an empty object"
    return f"an object with keys {_named(sorted(str(key) for key in event))}"


def _named(names: list[str]) -> str:
    """The first few names, each cut short, and how many more there are."""
    shown = ", ".join(_text(name) for name in names[:_MAX_NAMED])
    return f"{shown} and {len(names) - _MAX_NAMED} more" if len(names) > _MAX_NAMED else shown


def reject(error: EventShapeError) -> NoReturn:
    """Logs and counts the rejection, then raises it."""
    metrics.add_metric(name=UNEXPECTED_EVENTS_METRIC, unit=MetricUnit.Count, value=1)
    logger.error(
        "Event of an unexpected shape rejected",
        extra={"expected": error.expected, "received": error.received, "problem": error.problem},
    )
    raise error


def batch_records(
    event: object, *, source: str, expected: str, text_fields: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The records of a batch whose every record comes from ``source`` (e.g. ``aws:sqs``) and
    holds each of ``text_fields`` as text; anything else is rejected whole, since a record
    without its id cannot be reported as failed on its own."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not records:
        reject(EventShapeError(expected, event))
    for position, record in enumerate(records):
        if record_source(record) != source:
            reject(EventShapeError(expected, event, f"Records[{position}] is not from {source}"))
        missing = [field for field in text_fields if not isinstance(record.get(field), str)]
        if missing:
            problem = f"Records[{position}] has no text {', '.join(missing)}"
            reject(EventShapeError(expected, event, problem))
    return records


def sqs_records(event: object) -> list[dict[str, Any]]:
    """The records of an SQS batch, each with its message id and body."""
    return batch_records(
        event, source="aws:sqs", expected=SQS_BATCH, text_fields=("messageId", "body")
    )


def validated_event[Model: BaseModel](model: type[Model], event: object, expected: str) -> Model:
    """``event`` as ``model``, or rejected naming every field that did not fit."""
    try:
        return model.model_validate(event)
    except ValidationError as error:
        reject(
            EventShapeError(
                expected, event, describe_validation_error(error, most=MAX_REPORTED_PROBLEMS)
            )
        )
