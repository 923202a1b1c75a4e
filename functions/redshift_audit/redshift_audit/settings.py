"""redshift_audit settings: validated once from the environment the template sets."""

from functools import cache
from typing import Annotated

from pydantic import Field

from datalake_shared.settings import (
    CommaSeparated,
    EventBusSettings,
    FolderPrefix,
    SlackAlertSettings,
    load_settings,
)

DEFAULT_AUDIT_PREFIX = "redshift-audit/"


class RedshiftAuditSettings(SlackAlertSettings, EventBusSettings):
    audit_bucket: str = Field(alias="AUDIT_BUCKET", min_length=3)
    audit_prefix: FolderPrefix = Field(default=DEFAULT_AUDIT_PREFIX, alias="AUDIT_PREFIX")
    ignore_users: Annotated[frozenset[str], CommaSeparated] = Field(
        default=frozenset({"rdsdb"}), alias="IGNORE_USERS"
    )
    """Users whose statements are not audited: by default Redshift's internal superuser."""


@cache
def get_settings() -> RedshiftAuditSettings:
    return load_settings(RedshiftAuditSettings)
