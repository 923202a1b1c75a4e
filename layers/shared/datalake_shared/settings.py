"""Function settings read once from the environment and validated with pydantic."""

import os

from pydantic import BaseModel, ConfigDict, ValidationError


class EnvSettings(BaseModel):
    """Base for settings models: fields are aliased to their environment variable names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")


class SettingsError(RuntimeError):
    """The environment does not hold valid settings; the message names every bad variable."""


def load_settings[Settings: BaseModel](model: type[Settings]) -> Settings:
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise SettingsError(f"invalid {model.__name__} from environment: {problems}") from error
