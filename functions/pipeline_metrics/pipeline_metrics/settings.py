"""pipeline_metrics settings: validated once from the environment the template sets."""

from functools import cache
from typing import Final

from pydantic import Field, field_validator

from datalake_shared.s3_keys import check_prefix
from datalake_shared.settings import EnvSettings, load_settings

DEFAULT_METRICS_PREFIX: Final = "pipeline-metrics/"


class PipelineMetricsSettings(EnvSettings):
    metrics_bucket: str = Field(alias="METRICS_BUCKET", min_length=1)
    metrics_prefix: str = Field(default=DEFAULT_METRICS_PREFIX, alias="METRICS_PREFIX")
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)

    @field_validator("metrics_prefix")
    @classmethod
    def _folder_prefix(cls, value: str) -> str:
        """One folder, however written ("pipeline-metrics", "/pipeline-metrics/"...): the
        prefix ends with "/", or is empty to put the dt=... folders at the bucket's root."""
        value = value.strip().strip("/")
        return check_prefix(f"{value}/" if value else "")


@cache
def get_settings() -> PipelineMetricsSettings:
    return load_settings(PipelineMetricsSettings)
