"""file_tracker settings: validated once from the environment the template sets."""

import re
from functools import cache

from pydantic import Field, field_validator

from datalake_shared.settings import EventBusSettings, load_settings

# Same default as template.yaml's StagingKeyPattern: "<schema>/<table>/[sub/folders/]<file>".
DEFAULT_STAGING_KEY_PATTERN = r"^(?P<schema>[^/]+)/(?P<table>[^/]+)/(?:.+/)?(?P<file_name>[^/]+)$"
REQUIRED_KEY_GROUPS = ("schema", "table")


class FileTrackerSettings(EventBusSettings):
    file_tracker_table: str = Field(alias="FILE_TRACKER_TABLE", min_length=1)
    staging_prefix: str = Field(default="", alias="STAGING_PREFIX")
    staging_key_pattern: str = Field(
        default=DEFAULT_STAGING_KEY_PATTERN, alias="STAGING_KEY_PATTERN", min_length=1
    )

    @field_validator("staging_key_pattern")
    @classmethod
    def _pattern_names_schema_and_table(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression ({error})") from error
        missing = [group for group in REQUIRED_KEY_GROUPS if group not in compiled.groupindex]
        if missing:
            raise ValueError(
                f"must define the named groups (?P<schema>...) and (?P<table>...); "
                f"missing {missing}"
            )
        return value


@cache
def get_settings() -> FileTrackerSettings:
    return load_settings(FileTrackerSettings)
