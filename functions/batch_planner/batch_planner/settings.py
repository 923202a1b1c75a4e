"""batch_planner settings: validated once from the environment the template sets."""

from functools import cache

from pydantic import Field

from datalake_shared.settings import EnvSettings, load_settings


class BatchPlannerSettings(EnvSettings):
    batch_config_table: str = Field(alias="BATCH_CONFIG_TABLE", min_length=1)
    table_config_table: str = Field(alias="TABLE_CONFIG_TABLE", min_length=1)
    file_tracker_table: str = Field(alias="FILE_TRACKER_TABLE", min_length=1)
    glue_job_name: str = Field(alias="GLUE_JOB_NAME", min_length=1)
    # The nightly maintenance plan ({"maintenance": ...}): its log, and the database of the CDC
    # tables and the template's own Iceberg tables.
    table_maintenance_table: str = Field(alias="TABLE_MAINTENANCE_TABLE", min_length=1)
    lake_database: str = Field(alias="LAKE_DATABASE", min_length=1)
    # CdcTableConfigTable (the cdc_tables section): their Iceberg tables are maintained too.
    cdc_table_config_table: str = Field(alias="CDC_TABLE_CONFIG_TABLE", min_length=1)


@cache
def get_settings() -> BatchPlannerSettings:
    return load_settings(BatchPlannerSettings)
