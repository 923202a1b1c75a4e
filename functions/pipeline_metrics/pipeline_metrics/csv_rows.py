"""One CSV row per CodePipeline event, the CSV text Athena reads, and the objects' keys.

The format is what the Glue table (athena/pipeline_metrics/table.md) declares for
``org.apache.hadoop.hive.serde2.OpenCSVSerde``: UTF-8, a header row (skipped with
``skip.header.line.count=1``), every field quoted, ``"\\n"`` between rows, and the SerDe's
default escape character, the backslash, before every quote and backslash inside a field.
Two facts of Athena's CSV reading shape this:

- Text files are split into rows at line breaks before the SerDe sees them, so a quoted line
  break would cut a row in two. Line breaks inside values (CR, LF, CRLF: multi-line failure
  summaries) are therefore written as the two characters ``\\n``; NUL characters are dropped.
  Every other character, commas and quotes included, comes back as written.
- OpenCSVSerde drops a backslash that does not escape anything ("C:\\temp" would read
  "C:temp"), so backslashes are escaped too, and quotes are escaped with it rather than
  doubled. Python's csv (``READ_DIALECT``) and DuckDB's ``read_csv(escape='\\')`` read the
  same text back to the same values.
"""

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Final, Literal, TypedDict

from datalake_shared.json_lines import dated_key
from pipeline_metrics.models import (
    ActionExecutionEvent,
    CodePipelineEvent,
    ExecutionResult,
    PipelineExecutionEvent,
    StageExecutionEvent,
)

Level = Literal["pipeline", "stage", "action"]
FAILED_STATE: Final = "FAILED"
ESCAPE_CHAR: Final = "\\"
_ESCAPED_LINE_BREAK: Final = "\\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricRow:
    """One event as one row. Field order is the file's (and the Glue table's) column order:
    new columns go at the end, since OpenCSVSerde maps columns by position."""

    event_id: str
    event_time: str
    account: str
    region: str
    pipeline: str
    execution_id: str
    level: Level
    stage: str = ""
    action: str = ""
    category: str = ""
    provider: str = ""
    state: str
    failure_summary: str = ""
    error_code: str = ""
    external_url: str = ""
    pipeline_version: str = ""
    execution_trigger: str = ""

    @property
    def day(self) -> str:
        """The UTC date of the event, its ``dt`` partition ("2026-11-22")."""
        return self.event_time[:10]


COLUMNS: Final[tuple[str, ...]] = tuple(field.name for field in fields(MetricRow))
# The row's values in column order (dataclasses.astuple deep-copies: several times slower).
_VALUES: Final = attrgetter(*COLUMNS)


def event_time_iso(moment: datetime) -> str:
    """UTC ISO 8601 with a Z ("2026-11-22T10:15:00Z"; milliseconds when the time has them).

    Fixed width per resolution, so strings sort in time order; a naive time is taken as UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    timespec = "milliseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=timespec) + "Z"


class _Envelope(TypedDict):
    event_id: str
    event_time: str
    account: str
    region: str


def failure_summary(event: CodePipelineEvent, result_summary: str | None = None) -> str:
    """A failure's text, from execution-result and from additionalAttributes, each once. Only a
    failure has one: succeeded actions carry a summary too (a source action's commit message)."""
    if event.detail.state != FAILED_STATE:
        return ""
    texts = [result_summary, *event.additional_attributes.failure_texts()]
    return "; ".join(dict.fromkeys(text for text in texts if text))


def metric_row(event: CodePipelineEvent) -> MetricRow:
    """The row of one pipeline, stage or action state change."""
    common = _Envelope(
        event_id=event.id,
        event_time=event_time_iso(event.time),
        account=event.account,
        region=event.region,
    )
    match event:
        case PipelineExecutionEvent(detail=detail):
            trigger = detail.execution_trigger
            return MetricRow(
                **common,
                pipeline=detail.pipeline,
                execution_id=detail.execution_id,
                level="pipeline",
                state=detail.state,
                failure_summary=failure_summary(event),
                pipeline_version=detail.version or "",
                execution_trigger=(trigger.trigger_type or "") if trigger else "",
            )
        case StageExecutionEvent(detail=detail):
            return MetricRow(
                **common,
                pipeline=detail.pipeline,
                execution_id=detail.execution_id,
                level="stage",
                stage=detail.stage,
                state=detail.state,
                failure_summary=failure_summary(event),
                pipeline_version=detail.version or "",
            )
        case ActionExecutionEvent(detail=detail):
            result = detail.execution_result or ExecutionResult()
            return MetricRow(
                **common,
                pipeline=detail.pipeline,
                execution_id=detail.execution_id,
                level="action",
                stage=detail.stage,
                action=detail.action,
                category=detail.type.category,
                provider=detail.type.provider,
                state=detail.state,
                failure_summary=failure_summary(event, result.external_execution_summary),
                error_code=result.error_code or "",
                external_url=result.external_execution_url or "",
                pipeline_version=detail.version or "",
            )


def athena_safe(value: str) -> str:
    """The value as stored: line breaks as the two characters ``\\n``, NULs dropped."""
    if "\r" in value or "\n" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", _ESCAPED_LINE_BREAK)
    return value.replace("\x00", "") if "\x00" in value else value


def stored_row(row: MetricRow) -> tuple[str, ...]:
    """The row's values exactly as a CSV reader gets them back."""
    values: tuple[str, ...] = _VALUES(row)
    return tuple(athena_safe(value) for value in values)


class WriteDialect(csv.Dialect):
    delimiter = ","
    quotechar = '"'
    escapechar = ESCAPE_CHAR
    doublequote = False
    quoting = csv.QUOTE_ALL
    lineterminator = "\n"
    skipinitialspace = False
    strict = True


READ_DIALECT: Final = WriteDialect


def encode_csv(rows: Iterable[MetricRow]) -> bytes:
    """Header plus one line per row, UTF-8."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect=WriteDialect)
    writer.writerow(COLUMNS)
    writer.writerows(stored_row(row) for row in rows)
    return buffer.getvalue().encode("utf-8")


def decode_csv(body: bytes) -> list[dict[str, str]]:
    """The rows of a file ``encode_csv`` wrote, as column -> value (tests, tools)."""
    reader = csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""), dialect=READ_DIALECT)
    return list(reader)


def object_key(prefix: str, day: str, event_ids: Sequence[str]) -> str:
    """``<prefix>dt=<day>/<sha256 of the sorted, distinct event ids>.csv``.

    The same set of events always gives the same key (whatever the order they came in), so a
    batch delivered again overwrites its object instead of adding a copy of its rows. The ids
    are JSON-encoded before hashing, so no two different sets share an encoding.
    """
    encoded = json.dumps(sorted(set(event_ids)), separators=(",", ":"))
    digest = hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    # Within S3's 1,024 bytes whatever the prefix (settings bound it).
    return dated_key(prefix, day, digest, ".csv")
