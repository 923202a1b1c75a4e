"""The Slack message of a log event's sensitive statements (Block Kit)."""

from collections.abc import Sequence
from typing import Any, Final

from redshift_auditing import AuditRecord, LogSource

from datalake_shared.slack import (
    code_block,
    context_block,
    escape_mrkdwn,
    fields_block,
    header_block,
    text_block,
    truncate,
)

CATEGORY_EMOJI: Final = {"DCL": ":closed_lock_with_key:", "DDL": ":warning:"}


def _distinct(values: Sequence[str | None]) -> str:
    seen = list(dict.fromkeys(value for value in values if value))
    return ", ".join(seen) or "-"


def render_sensitive_query(source: LogSource, records: Sequence[AuditRecord]) -> dict[str, Any]:
    """Header (what and where), facts, the SQL as code, the log event reference."""
    first = records[0]
    types = _distinct([record.statement_type for record in records])
    category = "DCL" if any(record.category == "DCL" for record in records) else "DDL"
    title = f"{types} on {source.cluster}"
    unparsed = [record for record in records if record.parse_status != "parsed"]
    sql = ";\n".join(record.sql for record in records)
    blocks: list[dict[str, Any]] = [
        header_block(f"{CATEGORY_EMOJI[category]} Sensitive query: {title}"),
        fields_block(
            [
                ("Cluster", source.cluster),
                ("Database", first.database or "-"),
                ("User", first.user or "-"),
                ("Statement", types),
                ("Object", _distinct([record.object_name for record in records])),
                ("Query time (UTC)", first.query_time),
                ("pid / xid", f"{first.pid or '-'} / {first.xid or '-'}"),
                ("Category", category),
            ]
        ),
        text_block(f"*SQL*\n{code_block(sql)}"),
        context_block(
            f"log group `{escape_mrkdwn(source.log_group)}` · event "
            f"`{escape_mrkdwn(first.log_event_id)}`"
            + (
                f" · {len(unparsed)} statement(s) classified by keyword (not fully parsed)"
                if unparsed
                else ""
            )
        ),
    ]
    text = (
        f"Sensitive {category} query on {source.cluster} by {first.user or 'unknown user'}: {types}"
    )
    return {"text": truncate(text, 300), "blocks": blocks}
