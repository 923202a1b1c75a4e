"""config_loader settings: validated once from the environment the template sets."""

from functools import cache

from pydantic import Field

from datalake_shared.cadence_schedules import CadenceScheduleSettings
from datalake_shared.cdc_streams import CdcStreamSettings
from datalake_shared.redshift_subscriptions import RedshiftSubscriptionSettings
from datalake_shared.settings import EventBusSettings, load_settings, split_commas
from datalake_shared.workbook_catalog import WorkbookTableSettings


# CadenceScheduleSettings: the loader keeps one schedule per cadence (cadence_schedules).
# RedshiftSubscriptionSettings: a log subscription per Redshift log group (redshift_subscriptions).
# CdcStreamSettings: a stream mapping per CDC table (cdc_streams).
# WorkbookTableSettings: a Glue table (and dataset) per workbook table (workbook_catalog).
class ConfigLoaderSettings(
    EventBusSettings,
    CadenceScheduleSettings,
    RedshiftSubscriptionSettings,
    CdcStreamSettings,
    WorkbookTableSettings,
):
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
