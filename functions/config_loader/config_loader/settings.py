"""config_loader settings: validated once from the environment the template sets."""

from functools import cache

from pydantic import Field

from datalake_shared.settings import EventBusSettings, load_settings, split_commas


class ConfigLoaderSettings(EventBusSettings):
    batch_config_table: str = Field(alias="BATCH_CONFIG_TABLE", min_length=1)
    table_config_table: str = Field(alias="TABLE_CONFIG_TABLE", min_length=1)
    # The template's MergeTargetDatabases, comma-separated: the databases the Glue job may write.
    merge_target_databases: str = Field(alias="MERGE_TARGET_DATABASES", pattern=r"^[^,]+(,[^,]+)*$")

    @property
    def writable_databases(self) -> frozenset[str]:
        return split_commas(self.merge_target_databases)


@cache
def get_settings() -> ConfigLoaderSettings:
    return load_settings(ConfigLoaderSettings)
