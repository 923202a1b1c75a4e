"""pipeline_monitor settings: validated once from the environment the template sets."""

from functools import cache

from pipeline_monitor_records import Severity
from pydantic import Field, field_validator

from datalake_shared.settings import EnvSettings, load_settings

DEFAULT_MONITOR_PREFIX = "monitoring-events/"


class PipelineMonitorSettings(EnvSettings):
    monitor_bucket: str = Field(alias="MONITOR_BUCKET", min_length=3)
    monitor_prefix: str = Field(default=DEFAULT_MONITOR_PREFIX, alias="MONITOR_PREFIX")
    slack_webhook_secret: str = Field(alias="SLACK_WEBHOOK_SECRET", min_length=1)
    """Name or ARN of the secret holding the webhook URL (never the URL itself)."""
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=1)
    alert_on: frozenset[Severity] = Field(
        default=frozenset({Severity.ERROR}), alias="ALERT_ON", min_length=1
    )
    slack_allow_local_webhook: bool = Field(default=False, alias="SLACK_ALLOW_LOCAL_WEBHOOK")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)

    @field_validator("monitor_prefix")
    @classmethod
    def _prefix_is_a_folder(cls, value: str) -> str:
        value = value.lstrip("/")
        return value if not value or value.endswith("/") else f"{value}/"

    @field_validator("slack_webhook_secret")
    @classmethod
    def _secret_is_a_name_not_a_url(cls, value: str) -> str:
        if "://" in value:
            # Not echoed back: it is probably the webhook URL itself.
            raise ValueError("must name the secret (name or ARN), not hold the webhook URL")
        return value

    @field_validator("alert_on", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return {part.strip().lower() for part in value.split(",") if part.strip()}
        return value


@cache
def get_settings() -> PipelineMonitorSettings:
    return load_settings(PipelineMonitorSettings)
