"""pipeline_metrics settings: validated once from the environment the template sets."""

from functools import cache
from typing import Final

from pydantic import Field

from datalake_shared.settings import EventBusSettings, FolderPrefix, load_settings

DEFAULT_METRICS_PREFIX: Final = "pipeline-metrics/"


class PipelineMetricsSettings(EventBusSettings):
    metrics_bucket: str = Field(alias="METRICS_BUCKET", min_length=1)
    # "" puts the dt=... folders at the bucket's root.
    metrics_prefix: FolderPrefix = Field(default=DEFAULT_METRICS_PREFIX, alias="METRICS_PREFIX")


@cache
def get_settings() -> PipelineMetricsSettings:
    return load_settings(PipelineMetricsSettings)
