"""Function settings read once from the environment and validated with pydantic."""

import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from datalake_shared.s3_keys import check_prefix
from datalake_shared.validation import describe_validation_error


class EnvSettings(BaseModel):
    """Base for settings models: fields are aliased to their environment variable names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class SettingsError(RuntimeError):
    """The environment does not hold valid settings; the message names every bad variable."""


def load_settings[Settings: BaseModel](model: type[Settings]) -> Settings:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as error:
        problems = describe_validation_error(error)
        raise SettingsError(f"invalid {model.__name__} from environment: {problems}") from error


class SlackAlertSettings(EnvSettings):
    """Settings of a function that posts alerts to Slack once per event (mixin)."""

    slack_webhook_secret: str = Field(alias="SLACK_WEBHOOK_SECRET", min_length=1)
    """Name or ARN of the secret holding the webhook URL (never the URL itself)."""
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", min_length=1)
    slack_allow_local_webhook: bool = Field(default=False, alias="SLACK_ALLOW_LOCAL_WEBHOOK")

    @field_validator("slack_webhook_secret")
    @classmethod
    def _secret_is_a_name_not_a_url(cls, value: str) -> str:
        if "://" in value:
            # Not echoed back: it is probably the webhook URL itself.
            raise ValueError("must name the secret (name or ARN), not hold the webhook URL")
        return value


def folder_prefix(value: str) -> str:
    """A key prefix as a folder: no leading slash, a trailing one unless empty, and short
    enough to leave the keys under it room within S3's key limit (``s3_keys.check_prefix``)."""
    value = value.lstrip("/")
    return check_prefix(value if not value or value.endswith("/") else f"{value}/")
