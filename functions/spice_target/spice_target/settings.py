"""spice_target settings: the prefix -> dataset mapping and where the workbook tables are,
validated once."""

from functools import cache
from typing import Self

from pydantic import Field, field_validator, model_validator

from datalake_shared.settings import load_settings
from datalake_shared.workbook_tables import WorkbookTableSite
from spice_target.service import parse_mapping


# WorkbookTableSite: where the config loader made this stack's workbook tables.
class SpiceTargetSettings(WorkbookTableSite):
    spice_datasets: str = Field(default="{}", alias="SPICE_DATASETS")
    # The workbook tables' datasets (WORKBOOK_DATASETS true: QuickSight is on), found from the
    # tables the config loader made (datalake_shared.workbook_tables): the fallback for a key
    # SPICE_DATASETS does not map.
    workbook_datasets: bool = Field(default=False, alias="WORKBOOK_DATASETS")

    @field_validator("spice_datasets")
    @classmethod
    def _is_a_mapping(cls, value: str) -> str:
        parse_mapping(value)  # MappingError is a ValueError: pydantic reports it by name
        return value

    @model_validator(mode="after")
    def _workbook_tables_are_named(self) -> Self:
        if self.workbook_datasets and not (
            self.workbook_table_database and self.workbook_table_owner
        ):
            raise ValueError(
                "WORKBOOK_DATASETS is true: WORKBOOK_TABLE_DATABASE and WORKBOOK_TABLE_OWNER "
                "(the stack's name) say where its workbook tables are, and are required"
            )
        return self

    @property
    def mapping(self) -> dict[str, str]:
        return parse_mapping(self.spice_datasets)


@cache
def get_settings() -> SpiceTargetSettings:
    return load_settings(SpiceTargetSettings)
