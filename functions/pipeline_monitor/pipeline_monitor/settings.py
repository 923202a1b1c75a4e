"""pipeline_monitor settings: validated once from the environment the template sets."""

from functools import cache

from pydantic import Field, field_validator

from datalake_shared.settings import SlackAlertSettings, folder_prefix, load_settings
from pipeline_monitor.records import Severity

DEFAULT_MONITOR_PREFIX = "monitoring-events/"


class PipelineMonitorSettings(SlackAlertSettings):
    monitor_bucket: str = Field(alias="MONITOR_BUCKET", min_length=3)
    monitor_prefix: str = Field(default=DEFAULT_MONITOR_PREFIX, alias="MONITOR_PREFIX")
    alert_on: frozenset[Severity] = Field(
        default=frozenset({Severity.ERROR}), alias="ALERT_ON", min_length=1
    )
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)

    @field_validator("monitor_prefix")
    @classmethod
    def _prefix_is_a_folder(cls, value: str) -> str:
        return folder_prefix(value)

    @field_validator("alert_on", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return {part.strip().lower() for part in value.split(",") if part.strip()}
        return value


@cache
def get_settings() -> PipelineMonitorSettings:
    return load_settings(PipelineMonitorSettings)
