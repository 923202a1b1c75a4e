"""pydantic validation errors as one short log line: ``field.path: message; ...``.

pydantic's own text spans several lines per field and repeats the input; a log line (and a
quarantine report) wants the fields and what is wrong with them, bounded.
"""

from typing import Final

from pydantic import ValidationError

# How many invalid fields of a malformed event or record a log line names (pydantic may list
# hundreds).
MAX_REPORTED_PROBLEMS: Final = 10


def describe_validation_error(error: ValidationError, *, most: int | None = None) -> str:
    """``loc: msg`` per problem, joined by "; "; past ``most`` problems, "; and N more"."""
    problems = [
        f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
        for issue in error.errors(include_url=False, include_input=False)
    ]
    if most is None or len(problems) <= most:
        return "; ".join(problems)
    return "; ".join(problems[:most]) + f"; and {len(problems) - most} more"


def describe_error(error: BaseException | None, *, most: int | None = None) -> str:
    """A validation error as above, any other as ``Type: message`` (safe to log: our clients'
    errors never hold a secret such as the Slack webhook URL)."""
    if isinstance(error, ValidationError):
        return describe_validation_error(error, most=most)
    return f"{type(error).__name__}: {error}" if error is not None else "unknown error"
