"""Function settings read once from the environment and validated with pydantic."""

import os
from functools import partial
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

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


class EventBusSettings(EnvSettings):
    """Settings of a function that announces what it did on EventBridge (mixin)."""

    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)


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
    """A key prefix as one folder, however written ("events", "/events/"...): it ends with "/",
    or is empty for the bucket's root, and is short enough to leave the keys under it room
    within S3's key limit (``s3_keys.check_prefix``)."""
    value = value.strip().strip("/")
    return check_prefix(f"{value}/" if value else "")


def split_commas(text: str, *, lower: bool = False) -> frozenset[str]:
    """The non-blank parts of a comma-separated list, stripped."""
    parts = (part.strip() for part in text.split(","))
    return frozenset(part.lower() if lower else part for part in parts if part)


def comma_separated(value: object, *, lower: bool = False) -> object:
    """A comma-separated variable as the set of its parts (other values as they are)."""
    return split_commas(value, lower=lower) if isinstance(value, str) else value


FolderPrefix = Annotated[str, AfterValidator(folder_prefix)]
CommaSeparated = BeforeValidator(comma_separated)
CommaSeparatedLowercase = BeforeValidator(partial(comma_separated, lower=True))
