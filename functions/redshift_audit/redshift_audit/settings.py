"""redshift_audit settings: validated once from the environment the template sets."""

from functools import cache

from pydantic import Field, field_validator

from datalake_shared.settings import SlackAlertSettings, folder_prefix, load_settings

DEFAULT_AUDIT_PREFIX = "redshift-audit/"


class RedshiftAuditSettings(SlackAlertSettings):
    audit_bucket: str = Field(alias="AUDIT_BUCKET", min_length=3)
    audit_prefix: str = Field(default=DEFAULT_AUDIT_PREFIX, alias="AUDIT_PREFIX")
    ignore_users: frozenset[str] = Field(default=frozenset({"rdsdb"}), alias="IGNORE_USERS")
    """Users whose statements are not audited: by default Redshift's internal superuser."""
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)

    @field_validator("audit_prefix")
    @classmethod
    def _prefix_is_a_folder(cls, value: str) -> str:
        return folder_prefix(value)

    @field_validator("ignore_users", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return {part.strip() for part in value.split(",") if part.strip()}
        return value


@cache
def get_settings() -> RedshiftAuditSettings:
    return load_settings(RedshiftAuditSettings)
