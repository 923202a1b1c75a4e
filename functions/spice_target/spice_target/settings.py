"""spice_target settings: the prefix -> dataset mapping, validated once."""

from functools import cache

from pydantic import Field, field_validator

from datalake_shared.settings import EnvSettings, load_settings
from spice_target.service import parse_mapping


class SpiceTargetSettings(EnvSettings):
    spice_datasets: str = Field(default="{}", alias="SPICE_DATASETS")

    @field_validator("spice_datasets")
    @classmethod
    def _is_a_mapping(cls, value: str) -> str:
        parse_mapping(value)  # MappingError is a ValueError: pydantic reports it by name
        return value

    @property
    def mapping(self) -> dict[str, str]:
        return parse_mapping(self.spice_datasets)


@cache
def get_settings() -> SpiceTargetSettings:
    return load_settings(SpiceTargetSettings)
