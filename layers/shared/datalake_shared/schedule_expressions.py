"""When a cadence's batch run starts: EventBridge Scheduler expressions, checked here as
strictly as the Scheduler checks them, so a bad one is a config problem at upload rather than a
failed CreateSchedule after the config was stored.

A batch config's ``schedule`` is one of:

- ``rate(<n> <unit>)``: every n minutes, hours or days (``rate(1 hour)``, ``rate(15 minutes)``);
- ``cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)``, the Scheduler's six
  fields, one of day-of-month and day-of-week being ``?`` (``cron(0 2 * * ? *)``);
- ``none``: no schedule (the cadence runs only when started by hand; its schedule is removed).

``at(...)`` (one run only) is refused: a cadence repeats. Without ``schedule``, a cadence gets
the default of its name (``default_schedule``); a name with no default must say its schedule.
"""

import re
from typing import Final

NO_SCHEDULE: Final = "none"
HOURLY_DEFAULT: Final = "rate(1 hour)"
DAILY_DEFAULT: Final = "cron(0 2 * * ? *)"
_NAMED_DEFAULTS: Final = {"hourly": HOURLY_DEFAULT, "daily": DAILY_DEFAULT}
_EVERY_N_MINUTES: Final = re.compile(r"^([1-9][0-9]{0,3})min$")
_EVERY_N_HOURS: Final = re.compile(r"^([1-9][0-9]{0,2})h$")

_RATE: Final = re.compile(r"^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$")
_CRON: Final = re.compile(r"^cron\((.*)\)$")
_CRON_FIELDS: Final = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
_MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_WEEKDAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_WEEKS_OF_A_MONTH: Final = frozenset("12345")
_MAX_DIGITS: Final = 4  # no cron value (a year) has more
# The Scheduler's year range, and the rate's largest value (its API takes an int32).
_YEARS: Final = (1970, 2199)
_MAX_RATE: Final = 2**31 - 1


class ScheduleExpressionError(ValueError):
    """Not an expression a cadence may use; the message says what is wrong and what fits."""


def default_schedule(cadence: str) -> str | None:
    """The schedule of a well-known cadence name: hourly, daily, ``<N>min``, ``<N>h``."""
    if cadence in _NAMED_DEFAULTS:
        return _NAMED_DEFAULTS[cadence]
    if match := _EVERY_N_MINUTES.match(cadence):
        minutes = int(match.group(1))
        return f"rate({minutes} minute{'s' if minutes > 1 else ''})"
    if match := _EVERY_N_HOURS.match(cadence):
        hours = int(match.group(1))
        return f"rate({hours} hour{'s' if hours > 1 else ''})"
    return None


def check_schedule(expression: str) -> str:
    """``expression`` if a cadence may use it (see the module docstring), else raises
    ScheduleExpressionError."""
    if expression == NO_SCHEDULE:
        return expression
    if expression.startswith("at("):
        raise ScheduleExpressionError(
            "at(...) runs once; a cadence repeats: use rate(...) or cron(...)"
        )
    if expression.startswith("rate("):
        _check_rate(expression)
        return expression
    if expression.startswith("cron("):
        _check_cron(expression)
        return expression
    raise ScheduleExpressionError(
        f"{expression!r} is not a schedule: use rate(<n> minutes|hours|days), "
        f"cron(<min> <hour> <day> <month> <weekday> <year>) or {NO_SCHEDULE!r}"
    )


def _check_rate(expression: str) -> None:
    match = _RATE.match(expression)
    if match is None:
        raise ScheduleExpressionError(
            f"{expression!r}: write rate(<n> <unit>), n a whole number from 1, unit minute(s), "
            "hour(s) or day(s), separated by one space"
        )
    value, unit = int(match.group(1)), match.group(2)
    if value > _MAX_RATE:
        raise ScheduleExpressionError(f"{expression!r}: at most {_MAX_RATE}")
    # The Scheduler wants the singular for 1 and the plural above.
    if (value == 1) == unit.endswith("s"):
        fitting = unit.rstrip("s") if value == 1 else f"{unit}s"
        raise ScheduleExpressionError(f"{expression!r}: write rate({value} {fitting})")


def _check_cron(expression: str) -> None:
    match = _CRON.match(expression)
    fields = match.group(1).split(" ") if match else []
    if len(fields) != len(_CRON_FIELDS):
        raise ScheduleExpressionError(
            f"{expression!r}: cron takes six fields separated by one space: "
            "minutes hours day-of-month month day-of-week year"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    problems = [
        _field_problem("minutes", minutes, 0, 59),
        _field_problem("hours", hours, 0, 23),
        _field_problem("day-of-month", day_of_month, 1, 31, question=True, special="LW"),
        _field_problem("month", month, 1, 12, names=_MONTHS),
        _field_problem("day-of-week", day_of_week, 1, 7, question=True, names=_WEEKDAYS),
        _field_problem("year", year, *_YEARS),
    ]
    found = [problem for problem in problems if problem]
    if (day_of_month == "?") == (day_of_week == "?"):
        found.append("one of day-of-month and day-of-week must be '?', not both")
    if found:
        raise ScheduleExpressionError(f"{expression!r}: {'; '.join(found)}")


def _field_problem(
    name: str,
    text: str,
    low: int,
    high: int,
    *,
    question: bool = False,
    special: str = "",
    names: tuple[str, ...] = (),
) -> str | None:
    """What is wrong with one cron field, or None."""
    if text == "?":
        return None if question else f"{name}: '?' only in day-of-month or day-of-week"
    if text == "*":
        return None
    for part in text.split(","):
        if not _part_fits(part, low, high, special, names):
            return f"{name}: {part!r} is not a value from {low} to {high}, a range, a step or *"
    return None


def _part_fits(part: str, low: int, high: int, special: str, names: tuple[str, ...]) -> bool:
    """One comma-separated part: a value, a range ``a-b``, a step ``a/n`` or ``*/n``, or a
    day field's special form (``_day_special``)."""
    day_special = _day_special(part, low, high, special, names)
    if day_special is not None:
        return day_special
    start, slash, step = part.partition("/")
    if slash and not (step.isdigit() and len(step) <= _MAX_DIGITS and int(step) >= 1):
        return False
    if start == "*":
        return bool(slash)
    first, dash, last = start.partition("-")
    begin = _value(first, low, high, names)
    end = _value(last, low, high, names) if dash else begin
    return begin is not None and end is not None


def _day_special(
    part: str, low: int, high: int, special: str, names: tuple[str, ...]
) -> bool | None:
    """Day-of-month ``L``, ``LW``, ``<day>W``; day-of-week ``L``, ``<weekday>L``,
    ``<weekday>#<n>``: whether it fits, or None when ``part`` is no such form."""
    if names is _WEEKDAYS:
        special = "L#"
    if "L" in special and part in {"L", "LW"} and (part == "L" or "W" in special):
        return True
    if "W" in special and part.endswith("W"):
        return _value(part[:-1], low, high, names) is not None
    if "#" in special and part.endswith("L"):
        return _value(part[:-1], low, high, names) is not None
    if "#" in special and "#" in part:
        day, _, nth = part.partition("#")
        return _value(day, low, high, names) is not None and nth in _WEEKS_OF_A_MONTH
    return None


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text in names:
        return names.index(text) + low
    if not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if low <= number <= high else None
