"""A cadence's schedule: the defaults of well-known names, and expressions checked as strictly
as EventBridge Scheduler checks them (a bad one is refused at upload, never at CreateSchedule)."""

import re

import pytest
from config_loader_fakes import config_dict
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from datalake_contracts.table_config import CADENCE_PATTERN
from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.pipeline_config import BatchConfig, parse_pipeline_config
from datalake_shared.schedule_expressions import (
    ScheduleExpressionError,
    check_schedule,
    default_schedule,
)


def batch(cadence: str, schedule: str | None = None) -> BatchConfig:
    data: dict[str, object] = {"cadence": cadence, "batch_size": 2, "max_parallel_batches": 1}
    if schedule is not None:
        data["schedule"] = schedule
    return BatchConfig.model_validate(data)


# ------------------------------------------------------------------ defaults


@pytest.mark.parametrize(
    ("cadence", "schedule"),
    [
        ("hourly", "rate(1 hour)"),
        ("daily", "cron(0 2 * * ? *)"),
        ("15min", "rate(15 minutes)"),
        ("1min", "rate(1 minute)"),
        ("1h", "rate(1 hour)"),
        ("6h", "rate(6 hours)"),
    ],
)
def test_well_known_names_get_their_schedule(cadence: str, schedule: str) -> None:
    # Given a batch config of a well-known cadence without a schedule / Then it has the default
    assert batch(cadence).effective_schedule == schedule


@given(minutes=st.integers(min_value=1, max_value=9999))
def test_every_n_min_cadence_runs_every_n_minutes(minutes: int) -> None:
    # Given "<N>min" / Then rate(N minutes), a valid expression (singular for 1)
    schedule = default_schedule(f"{minutes}min")
    assert schedule == f"rate({minutes} minute{'s' if minutes > 1 else ''})"
    assert check_schedule(schedule) == schedule


@given(hours=st.integers(min_value=1, max_value=999))
def test_every_n_h_cadence_runs_every_n_hours(hours: int) -> None:
    schedule = default_schedule(f"{hours}h")
    assert schedule == f"rate({hours} hour{'s' if hours > 1 else ''})"
    assert check_schedule(schedule) == schedule


_named = st.from_regex(CADENCE_PATTERN, fullmatch=True).filter(
    lambda name: default_schedule(name) is None
)


@given(cadence=_named)
def test_any_other_name_without_a_schedule_is_refused_saying_what_to_write(cadence: str) -> None:
    # Given a valid cadence name with no default (e.g. "weekly") and no schedule
    # When validated / Then it is refused, naming the cadence and the ways out
    with pytest.raises(ValidationError, match="has no default schedule") as raised:
        batch(cadence)
    assert repr(cadence) in str(raised.value)
    assert "schedule: none" in str(raised.value)


@given(cadence=_named)
def test_any_name_takes_an_explicit_schedule(cadence: str) -> None:
    assert batch(cadence, "cron(0 6 ? * MON *)").effective_schedule == "cron(0 6 ? * MON *)"


def test_an_explicit_schedule_wins_over_the_default() -> None:
    assert batch("hourly", "cron(5 * * * ? *)").effective_schedule == "cron(5 * * * ? *)"


def test_schedule_none_means_no_schedule() -> None:
    # Given schedule: none (how a cadence's schedule is removed) / Then none is wanted
    assert batch("hourly", "none").effective_schedule is None
    assert batch("weekly", "none").effective_schedule is None


def test_the_file_problem_points_at_the_batch() -> None:
    # Given a file with a weekly cadence and no schedule / When parsed
    data = config_dict([], cadences=["hourly", "weekly"])
    text = "\n".join(
        ["batches:"]
        + [
            f"  - {{cadence: {b['cadence']}, batch_size: 2, max_parallel_batches: 2}}"
            for b in data["batches"]
        ]
    )
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(text, "pipeline.yaml")
    # Then the problem names the item and its line
    (problem,) = raised.value.problems
    assert problem.location == "batches[1]"
    assert problem.line == 3
    assert "'weekly' has no default schedule" in problem.message


# ------------------------------------------------------------------ expressions

_minute = st.integers(0, 59).map(str)
_hour = st.integers(0, 23).map(str)
_day = st.integers(1, 31).map(str)
_month = st.one_of(
    st.integers(1, 12).map(str),
    st.sampled_from(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV"]),
)
_weekday = st.one_of(st.integers(1, 7).map(str), st.sampled_from(["SUN", "MON", "FRI", "SAT"]))


def _field(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A cron field: *, a value, a list, a range or a step over the given values."""
    return st.one_of(
        st.just("*"),
        values,
        st.lists(values, min_size=2, max_size=4).map(",".join),
        st.tuples(values, values).map("-".join),
        st.tuples(st.one_of(st.just("*"), values), st.integers(1, 59)).map(
            lambda pair: f"{pair[0]}/{pair[1]}"
        ),
    )


@st.composite
def cron_expressions(draw: st.DrawFn) -> str:
    """Any cron the Scheduler takes: six fields, exactly one day field being '?'."""
    by_weekday = draw(st.booleans())
    day_of_month = (
        "?" if by_weekday else draw(st.one_of(_field(_day), st.sampled_from(["L", "LW", "15W"])))
    )
    day_of_week = (
        draw(st.one_of(_field(_weekday), st.sampled_from(["L", "6L", "MON#2", "2#5"])))
        if by_weekday
        else "?"
    )
    year = draw(st.one_of(st.just("*"), st.integers(1970, 2199).map(str)))
    fields = [draw(_field(_minute)), draw(_field(_hour)), day_of_month, draw(_field(_month))]
    return f"cron({' '.join([*fields, day_of_week, year])})"


@given(expression=cron_expressions())
def test_every_scheduler_cron_is_accepted(expression: str) -> None:
    assert check_schedule(expression) == expression


@given(
    value=st.integers(min_value=1, max_value=2**31 - 1),
    unit=st.sampled_from(["minute", "hour", "day"]),
)
def test_every_scheduler_rate_is_accepted(value: int, unit: str) -> None:
    expression = f"rate({value} {unit}{'s' if value > 1 else ''})"
    assert check_schedule(expression) == expression


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("at(2026-12-24T18:00:00)", "runs once"),
        ("rate(0 minutes)", "whole number from 1"),
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(5 minute)", "write rate(5 minutes)"),
        ("rate(5  minutes)", "one space"),
        ("rate(1 week)", "minute(s), hour(s) or day(s)"),
        ("cron(0 2 * * *)", "six fields"),
        ("cron(0 2 * * ? * *)", "six fields"),
        ("cron(0 2 * * * *)", "one of day-of-month and day-of-week must be '?'"),
        ("cron(0 2 ? * ? *)", "one of day-of-month and day-of-week must be '?'"),
        ("cron(60 2 * * ? *)", "minutes: '60'"),
        ("cron(0 24 * * ? *)", "hours: '24'"),
        ("cron(0 2 32 * ? *)", "day-of-month: '32'"),
        ("cron(0 2 * 13 ? *)", "month: '13'"),
        ("cron(0 2 ? * 8 *)", "day-of-week: '8'"),
        ("cron(0 2 * * ? 1969)", "year: '1969'"),
        ("cron(? 2 * * ? *)", "only in day-of-month or day-of-week"),
        ("cron(0/0 2 * * ? *)", "minutes"),
        ("cron(0 2 * * ? *", "six fields"),
        ("every hour", "not a schedule"),
        ("Rate(1 hour)", "not a schedule"),
        ("", "not a schedule"),
    ],
)
def test_what_the_scheduler_would_refuse_is_refused_saying_why(expression: str, says: str) -> None:
    with pytest.raises(ScheduleExpressionError, match=re.escape(says)):
        check_schedule(expression)


def test_a_bad_schedule_is_a_problem_of_the_batch_config_field() -> None:
    with pytest.raises(ValidationError) as raised:
        batch("hourly", "rate(1 hours)")
    assert [tuple(error["loc"]) for error in raised.value.errors()] == [("schedule",)]


def test_a_schedule_must_be_text() -> None:
    # Given a YAML value that is not a string (strict: no coercion) / Then it is refused
    with pytest.raises(ValidationError):
        BatchConfig.model_validate(
            {"cadence": "hourly", "batch_size": 2, "max_parallel_batches": 1, "schedule": 15}
        )
