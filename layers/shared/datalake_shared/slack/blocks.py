"""Slack Block Kit: the blocks the alerting functions build their messages from, each cut to
Slack's limits (https://api.slack.com/reference/block-kit/blocks) and escaped."""

from collections.abc import Sequence
from typing import Any, Final

HEADER_TEXT_LIMIT: Final = 150
SECTION_TEXT_LIMIT: Final = 3000
FIELD_TEXT_LIMIT: Final = 2000
MAX_FIELDS: Final = 10
BUTTON_URL_LIMIT: Final = 3000
CODE_BLOCK_LIMIT: Final = 2900
TRUNCATED_MARK: Final = "… (truncated)"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, marked when cut (when the mark fits)."""
    if len(text) <= limit:
        return text
    if limit < len(TRUNCATED_MARK):
        return text[: max(0, limit)]
    return text[: limit - len(TRUNCATED_MARK)] + TRUNCATED_MARK


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; anything else shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code_block(text: str, limit: int = CODE_BLOCK_LIMIT) -> str:
    """``text`` as a mrkdwn code block; fences inside it are broken up so it stays one block."""
    raw = text.replace("```", "`\u200b`\u200b`")
    inner = escape_mrkdwn(raw)
    while len(inner) > limit:
        # Cut before escaping (never inside "&amp;"), shorter each round by what escaping added.
        raw = truncate(raw, len(raw) - (len(inner) - limit))
        inner = escape_mrkdwn(raw)
    return f"```{inner}```"


def header_block(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_TEXT_LIMIT), "emoji": True},
    }


def fields_block(fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A section of "*label*\\nvalue" fields (values escaped; at most ten)."""
    return {
        "type": "section",
        "fields": [
            {
                "type": "mrkdwn",
                "text": truncate(f"*{label}*\n{escape_mrkdwn(value)}", FIELD_TEXT_LIMIT),
            }
            for label, value in fields[:MAX_FIELDS]
        ],
    }


def text_block(mrkdwn: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_TEXT_LIMIT)},
    }


def link_button_blocks(
    label: str, url: str | None, action_id: str = "open_console"
) -> list[dict[str, Any]]:
    """An actions block with one link button, or nothing when there is no usable URL (a cut
    URL would lead somewhere else)."""
    if not url or len(url) > BUTTON_URL_LIMIT or not url.startswith("https://"):
        return []
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(label, 75)},
        "url": url,
        "action_id": action_id,
    }
    return [{"type": "actions", "elements": [button]}]


def context_block(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn, 2000)}]}
