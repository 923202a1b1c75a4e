"""batch_planner settings: validated once from the environment the template sets."""

from functools import cache

from pydantic import Field

from datalake_shared.settings import EnvSettings, load_settings


class BatchPlannerSettings(EnvSettings):
    batch_config_table: str = Field(alias="BATCH_CONFIG_TABLE", min_length=1)
    table_config_table: str = Field(alias="TABLE_CONFIG_TABLE", min_length=1)
    file_tracker_table: str = Field(alias="FILE_TRACKER_TABLE", min_length=1)
    glue_job_name: str = Field(alias="GLUE_JOB_NAME", min_length=1)


@cache
def get_settings() -> BatchPlannerSettings:
    return load_settings(BatchPlannerSettings)
