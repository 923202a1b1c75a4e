"""catalog_type_fixer settings: validated once from the environment the template sets.

POWERTOOLS_SERVICE_NAME (and the metrics namespace) are read by Powertools itself
(datalake_shared.observability).
"""

from functools import cache
from typing import Annotated

from pydantic import Field

from datalake_shared.settings import CommaSeparatedLowercase, EnvSettings, load_settings


class CatalogTypeFixerSettings(EnvSettings):
    databases: Annotated[frozenset[str], CommaSeparatedLowercase] = Field(
        alias="TYPE_FIXER_DATABASES", min_length=1
    )
    """Glue databases whose tables are fixed; Glue keeps database names in lowercase."""


@cache
def get_settings() -> CatalogTypeFixerSettings:
    return load_settings(CatalogTypeFixerSettings)
