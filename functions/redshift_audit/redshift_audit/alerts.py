"""The Slack message of a subscription batch's sensitive statements (Block Kit).

One message per batch: a header with the count and the cluster, a summary (who, where, what
kinds, when), the first ``MAX_LISTED_STATEMENTS`` statements (user, database, category,
statement type, object, time and the SQL, passwords already masked, cut short), then "and K
more" pointing at the ``redshift_audit`` table in Athena. Every value is capped, so however
large the batch the payload stays within Slack's limits (50 blocks, 3000 characters per text
object, 2000 per field, 150 per header).
"""

from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from datalake_shared.slack import (
    code_block,
    context_block,
    escape_mrkdwn,
    fields_block,
    header_block,
    text_block,
    truncate,
)
from redshift_audit.service import AuditRecord, LogSource

CATEGORY_EMOJI: Final = {"DCL": ":closed_lock_with_key:", "DDL": ":warning:"}
MAX_LISTED_STATEMENTS: Final = 15
SQL_PREVIEW_CHARS: Final = 400
"""Characters of a listed statement's SQL (code block included); the table holds all of it."""
VALUE_CHARS: Final = 200
"""Characters of a user, database or object name as shown."""
ATHENA_TABLE: Final = "redshift_audit"


def _value(text: str | None) -> str:
    return escape_mrkdwn(truncate(text or "-", VALUE_CHARS))


def _distinct(values: Sequence[str | None]) -> str:
    seen = list(dict.fromkeys(value for value in values if value))
    return ", ".join(seen) or "-"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _statement_block(number: int, record: AuditRecord) -> dict[str, Any]:
    what = f"*{number}. {_value(record.statement_type)}*"
    if record.object_name:
        what += f" on {_value(record.object_name)}"
    what += f" · {_value(record.category)}"
    if record.parse_status != "parsed":
        what += " · classified by keyword"
    who = f"user {_value(record.user)} · db {_value(record.database)} · {_value(record.query_time)}"
    return text_block(f"{what}\n{who}\n{code_block(record.sql, SQL_PREVIEW_CHARS)}")


def render_batch_alert(source: LogSource, records: Sequence[AuditRecord]) -> dict[str, Any]:
    """Header (count and cluster), summary, the first statements, "and K more", the source."""
    categories = Counter(record.category for record in records)
    category = "DCL" if categories["DCL"] else "DDL"
    count = _plural(len(records), "sensitive statement")
    times = sorted(record.query_time for record in records)
    log_events = len({record.log_event_id for record in records})
    unparsed = sum(record.parse_status != "parsed" for record in records)
    listed = records[:MAX_LISTED_STATEMENTS]
    blocks: list[dict[str, Any]] = [
        header_block(f"{CATEGORY_EMOJI[category]} {count} on {source.cluster}"),
        fields_block(
            [
                ("Cluster", source.cluster),
                ("Users", _distinct([record.user for record in records])),
                ("Databases", _distinct([record.database for record in records])),
                (
                    "Categories",
                    ", ".join(f"{name} {n}" for name, n in sorted(categories.items())),
                ),
                ("Statements", _distinct([record.statement_type for record in records])),
                (
                    "Query time (UTC)",
                    times[0] if times[0] == times[-1] else f"{times[0]} to {times[-1]}",
                ),
            ]
        ),
        *(_statement_block(number, record) for number, record in enumerate(listed, start=1)),
    ]
    if more := len(records) - len(listed):
        blocks.append(text_block(f"…and {more} more — see the `{ATHENA_TABLE}` table in Athena"))
    blocks.append(
        context_block(
            f"log group `{escape_mrkdwn(source.log_group)}` · "
            f"{_plural(log_events, 'log event')} with sensitive SQL"
            + (
                f" · {unparsed} statement(s) classified by keyword (not fully parsed)"
                if unparsed
                else ""
            )
        )
    )
    users = _distinct([record.user for record in records])
    types = _distinct([record.statement_type for record in records])
    text = f"{count} ({category}) on {source.cluster} by {users}: {types}"
    return {"text": truncate(text, 300), "blocks": blocks}
