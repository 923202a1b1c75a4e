"""pipeline_metrics settings: validated once from the environment the template sets."""

from functools import cache
from typing import Final

from pydantic import Field

from datalake_shared.settings import EnvSettings, FolderPrefix, load_settings

DEFAULT_METRICS_PREFIX: Final = "pipeline-metrics/"


class PipelineMetricsSettings(EnvSettings):
    metrics_bucket: str = Field(alias="METRICS_BUCKET", min_length=1)
    # "" puts the dt=... folders at the bucket's root.
    metrics_prefix: FolderPrefix = Field(default=DEFAULT_METRICS_PREFIX, alias="METRICS_PREFIX")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)


@cache
def get_settings() -> PipelineMetricsSettings:
    return load_settings(PipelineMetricsSettings)
