"""pipeline_monitor settings: validated once from the environment the template sets."""

from functools import cache
from typing import Annotated

from pydantic import Field

from datalake_shared.settings import (
    CommaSeparatedLowercase,
    EventBusSettings,
    FolderPrefix,
    SlackAlertSettings,
    load_settings,
)
from pipeline_monitor.records import Severity

DEFAULT_MONITOR_PREFIX = "monitoring-events/"


class PipelineMonitorSettings(SlackAlertSettings, EventBusSettings):
    monitor_bucket: str = Field(alias="MONITOR_BUCKET", min_length=3)
    monitor_prefix: FolderPrefix = Field(default=DEFAULT_MONITOR_PREFIX, alias="MONITOR_PREFIX")
    alert_on: Annotated[frozenset[Severity], CommaSeparatedLowercase] = Field(
        default=frozenset({Severity.ERROR}), alias="ALERT_ON", min_length=1
    )


@cache
def get_settings() -> PipelineMonitorSettings:
    return load_settings(PipelineMonitorSettings)
