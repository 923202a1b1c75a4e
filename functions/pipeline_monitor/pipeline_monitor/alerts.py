"""The Slack message of a monitored failure (Block Kit), and the poster the monitor uses."""

from typing import Any, Final

from datalake_shared.slack import (
    AlertPosting,
    code_block,
    context_block,
    escape_mrkdwn,
    fields_block,
    header_block,
    link_button_blocks,
    text_block,
    truncate,
)
from pipeline_monitor.records import MonitorRecord, Service, Severity

# The alerts' idempotency records are "<prefix>#<hash of the event id>" in IDEMPOTENCY_TABLE;
# tools/test_alert.py reads them to learn whether Slack took an alert.
IDEMPOTENCY_KEY_PREFIX: Final = "pipeline-monitor-slack"
SERVICE_LABELS: Final = {
    Service.GLUE_JOB: "Glue job",
    Service.GLUE_CRAWLER: "Glue crawler",
    Service.STEP_FUNCTIONS: "Step Functions execution",
    Service.CLOUDWATCH_ALARM: "CloudWatch alarm",
    Service.LAMBDA: "Lambda function",
    Service.UNKNOWN: "Unrecognised event",
}
SEVERITY_EMOJI: Final = {
    Severity.ERROR: ":rotating_light:",
    Severity.WARNING: ":warning:",
    Severity.INFO: ":information_source:",
}


def alert_title(record: MonitorRecord) -> str:
    return f"{SERVICE_LABELS[record.service]} {record.state}: {record.resource}"


def render_alert(record: MonitorRecord) -> dict[str, Any]:
    """Incoming-webhook payload: header, facts, the error as code, a console button."""
    title = alert_title(record)
    where = " / ".join(part for part in (record.account, record.region) if part) or "-"
    blocks: list[dict[str, Any]] = [
        header_block(f"{SEVERITY_EMOJI[record.severity]} {title}"),
        fields_block(
            [
                ("Service", SERVICE_LABELS[record.service]),
                ("Resource", record.resource),
                ("State", record.state),
                ("Run id", record.run_id or "-"),
                ("Time (UTC)", record.event_time),
                ("Account / region", where),
            ]
        ),
    ]
    if record.error_message:
        blocks.append(text_block(f"*Error*\n{code_block(record.error_message)}"))
    blocks.extend(link_button_blocks("Open in the AWS console", record.console_url))
    blocks.append(
        context_block(
            f"severity *{record.severity}* · {escape_mrkdwn(record.detail_type)} · "
            f"event `{escape_mrkdwn(record.event_id)}`"
        )
    )
    return {"text": truncate(f"{record.severity.upper()}: {title}", 300), "blocks": blocks}


# The poster the monitor uses: ``IdempotentSlackPoster`` (behind ``LazySlackPoster``) in Lambda.
AlertPoster = AlertPosting
