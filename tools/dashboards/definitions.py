"""Every QuickSight dataset and dashboard of the stack, defined once.

A dataset is one of the stack's Athena named queries (its ``athena/<capability>/<name>.sql``
file, the same text the named query and the query tests use) with its output columns typed for
QuickSight. A visual draws one dataset. The template's QuickSight resources are generated from
these definitions (``make dashboards``), and ``make demo`` draws the same visuals from the same
queries run on the local Athena (``tools.dashboards.preview``): what the preview shows is what
the deployed dashboards show.
"""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[2]


class ColumnType(StrEnum):
    """QuickSight's input column types (``InputColumn.Type``) the datasets use."""

    STRING = "STRING"
    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    DATETIME = "DATETIME"

    @property
    def numeric(self) -> bool:
        return self in {ColumnType.INTEGER, ColumnType.DECIMAL}


def slug(key: str) -> str:
    """A definition's key as QuickSight ids spell it (``cicd_metrics`` -> ``cicd-metrics``)."""
    return key.replace("_", "-")


class Chart(StrEnum):
    BAR = "bar"  # values side by side per category (clustered)
    STACKED_BAR = "stacked_bar"  # values stacked per category
    LINE = "line"  # values over the category (a date), one line per value or per group
    PIE = "pie"  # one value split by category
    TABLE = "table"  # the rows as they are


class Aggregation(StrEnum):
    """How a value column is aggregated per category (and group)."""

    SUM = "SUM"
    AVERAGE = "AVERAGE"
    MAX = "MAX"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType


@dataclass(frozen=True)
class Dataset:
    key: str  # snake_case; the QuickSight dataset id is "<stack>-<key with dashes>"
    name: str  # shown in QuickSight
    sql_file: str  # relative to the repository root
    columns: tuple[Column, ...]  # the query's output columns, in order

    @property
    def sql(self) -> str:
        return (ROOT / self.sql_file).read_text(encoding="utf-8")

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.key} has no column {name!r}")


@dataclass(frozen=True)
class Visual:
    key: str  # unique within its dashboard; snake_case
    title: str
    subtitle: str
    chart: Chart
    dataset: Dataset
    category: str | None = None  # the x axis (bar, line) or the slices (pie); None for a table
    values: tuple[str, ...] = ()  # measured columns (bar, line, pie); shown columns (table)
    group: str | None = None  # one colour per value of this column (bar, line); one value only
    aggregation: Aggregation = Aggregation.SUM
    # Only the rows whose column holds this value (a filter on this visual alone), e.g. the
    # action rows of a dataset that also holds stage rows.
    only: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        """The rules the QuickSight generator and the preview both rely on."""
        problems = [f"no column {c!r}" for c in self._columns() if c not in self._declared()]
        if self.chart is Chart.TABLE:
            if self.category is not None or self.group is not None or not self.values:
                problems.append("a table shows its values only (no category, no group)")
        else:
            problems.extend(self._chart_problems())
        filtered = self.only[0] if self.only else None
        if filtered is not None and filtered in self._declared() and self._numeric(filtered):
            problems.append(f"only filters a text column, not {filtered!r}")
        if problems:
            raise ValueError(f"visual {self.key}: " + "; ".join(problems))

    @property
    def date_category(self) -> str | None:
        """The category when it is a date-time, else None: drawn by day, days in calendar order
        (QuickSight sorts bars by value unless told; the preview sorts as the dashboards do)."""
        if self.category is None or self.dataset.column(self.category).type is not (
            ColumnType.DATETIME
        ):
            return None
        return self.category

    def _numeric(self, column: str) -> bool:
        return self.dataset.column(column).type.numeric

    def _declared(self) -> set[str]:
        return {column.name for column in self.dataset.columns}

    def _columns(self) -> list[str]:
        named = [self.category, self.group, *self.values, self.only[0] if self.only else None]
        return [column for column in named if column is not None]

    def _chart_problems(self) -> list[str]:
        problems = []
        if self.category is None or not self.values:
            problems.append(f"a {self.chart} needs a category and values")
        if self.group is not None and len(self.values) != 1:
            problems.append("a grouped visual measures exactly one value")
        fields = [self.category, self.group, *self.values]
        if len(set(fields)) != len(fields):
            problems.append("a column is used twice (its field id would repeat)")
        for value in self.values:
            if value in self._declared() and not self._numeric(value):
                problems.append(f"value {value!r} is not a number")
        return problems


@dataclass(frozen=True)
class Dashboard:
    key: str  # snake_case; the QuickSight dashboard id is "<stack>-<key with dashes>"
    title: str
    description: str
    visuals: tuple[Visual, ...]

    def __post_init__(self) -> None:
        keys = [visual.key for visual in self.visuals]
        if len(set(keys)) != len(keys):
            raise ValueError(f"dashboard {self.key}: visual keys repeat: {keys}")

    @property
    def datasets(self) -> tuple[Dataset, ...]:
        """The datasets its visuals draw, each once, in the order they first appear."""
        return tuple(dict.fromkeys(visual.dataset for visual in self.visuals))


_S, _I, _D, _T = ColumnType.STRING, ColumnType.INTEGER, ColumnType.DECIMAL, ColumnType.DATETIME

EXECUTIONS_PER_DAY: Final = Dataset(
    key="executions_per_day",
    name="Pipeline executions per day",
    sql_file="athena/pipeline_metrics/executions_and_success_rate_per_day.sql",
    columns=(
        Column("day", _T),
        Column("pipeline", _S),
        Column("executions", _I),
        Column("succeeded", _I),
        Column("failed", _I),
        Column("without_verdict", _I),
        Column("success_rate", _D),
    ),
)
FAILING_STAGES_AND_ACTIONS: Final = Dataset(
    key="failing_stages_and_actions",
    name="Failing pipeline stages and actions",
    sql_file="athena/pipeline_metrics/failing_stages_and_actions.sql",
    columns=(
        Column("pipeline", _S),
        Column("level", _S),
        Column("stage", _S),
        Column("action", _S),
        Column("category", _S),
        Column("provider", _S),
        Column("failures", _I),
        Column("successes", _I),
        Column("failure_rate", _D),
        Column("failed_executions", _I),
        Column("last_failed_at", _T),
        Column("last_failure_summary", _S),
        Column("last_error_code", _S),
    ),
)
DAY_OVER_DAY: Final = Dataset(
    key="day_over_day_trend",
    name="Pipeline executions day over day",
    sql_file="athena/pipeline_metrics/day_over_day_trend.sql",
    columns=(
        Column("day", _T),
        Column("pipeline", _S),
        Column("executions", _I),
        Column("succeeded", _I),
        Column("failed", _I),
        Column("previous_executions", _I),
        Column("previous_succeeded", _I),
        Column("previous_failed", _I),
        Column("succeeded_change", _I),
        Column("failed_change", _I),
    ),
)
EXECUTION_DURATION: Final = Dataset(
    key="execution_duration",
    name="Pipeline execution durations",
    sql_file="athena/pipeline_metrics/execution_duration.sql",
    columns=(
        Column("day", _T),
        Column("pipeline", _S),
        Column("execution_id", _S),
        Column("started_at", _T),
        Column("finished_at", _T),
        Column("final_state", _S),
        Column("duration_seconds", _I),
    ),
)
FAILURES_PER_DAY: Final = Dataset(
    key="monitoring_events_per_day",
    name="Monitoring events per day",
    sql_file="athena/monitoring/failures_per_day.sql",
    columns=(Column("day", _T), Column("severity", _S), Column("events", _I)),
)
FAILURES_BY_SERVICE: Final = Dataset(
    key="failures_by_service",
    name="Failures by service (7 days)",
    sql_file="athena/monitoring/failures_by_service.sql",
    columns=(Column("service", _S), Column("failures", _I)),
)
FAILURES_BY_RESOURCE: Final = Dataset(
    key="failures_by_resource",
    name="Failures by resource (7 days)",
    sql_file="athena/monitoring/failures_by_resource.sql",
    columns=(
        Column("service", _S),
        Column("resource", _S),
        Column("failures", _I),
        Column("last_failure", _S),
        Column("last_error", _S),
    ),
)
SENSITIVE_STATEMENTS: Final = Dataset(
    key="sensitive_statements",
    name="Redshift sensitive statements (7 days)",
    sql_file="athena/redshift_audit/sensitive_statements.sql",
    columns=(
        Column("user", _S),
        Column("category", _S),
        Column("statement_type", _S),
        Column("statements", _I),
        Column("last_seen", _S),
    ),
)

CICD_METRICS: Final = Dashboard(
    key="cicd_metrics",
    title="CI/CD pipeline metrics",
    description="CodePipeline executions: outcomes per pipeline, per action, day over day.",
    visuals=(
        Visual(
            key="executions_per_pipeline",
            title="Executions per pipeline",
            subtitle="Succeeded and failed, last 90 days",
            chart=Chart.STACKED_BAR,
            dataset=EXECUTIONS_PER_DAY,
            category="pipeline",
            values=("succeeded", "failed"),
        ),
        Visual(
            key="success_rate_per_day",
            title="Success rate per day",
            subtitle="Succeeded / (succeeded + failed), per pipeline",
            chart=Chart.LINE,
            dataset=EXECUTIONS_PER_DAY,
            category="day",
            values=("success_rate",),
            group="pipeline",
            aggregation=Aggregation.AVERAGE,
        ),
        Visual(
            key="action_outcomes",
            title="Outcomes per action",
            subtitle="Successes and failures of the actions that failed",
            chart=Chart.BAR,
            dataset=FAILING_STAGES_AND_ACTIONS,
            category="action",
            values=("successes", "failures"),
            only=("level", "action"),
        ),
        Visual(
            key="day_over_day",
            title="Day over day",
            subtitle="Change in succeeded and failed executions from the day before",
            chart=Chart.BAR,
            dataset=DAY_OVER_DAY,
            category="day",
            values=("succeeded_change", "failed_change"),
        ),
        Visual(
            key="duration_per_day",
            title="Execution duration",
            subtitle="Average seconds from start to final state, per pipeline",
            chart=Chart.LINE,
            dataset=EXECUTION_DURATION,
            category="day",
            values=("duration_seconds",),
            group="pipeline",
            aggregation=Aggregation.AVERAGE,
        ),
    ),
)
PIPELINE_FAILURES: Final = Dashboard(
    key="pipeline_failures",
    title="Pipeline failures",
    description="What the monitor stored: Glue, Step Functions, alarms and failed invocations.",
    visuals=(
        Visual(
            key="events_per_day",
            title="Monitoring events per day",
            subtitle="By severity, last 30 days",
            chart=Chart.STACKED_BAR,
            dataset=FAILURES_PER_DAY,
            category="day",
            values=("events",),
            group="severity",
        ),
        Visual(
            key="failures_by_service",
            title="Failures by service",
            subtitle="Last 7 days",
            chart=Chart.PIE,
            dataset=FAILURES_BY_SERVICE,
            category="service",
            values=("failures",),
        ),
        Visual(
            key="failures_by_resource",
            title="Failures by resource",
            subtitle="Last 7 days, with the latest error",
            chart=Chart.TABLE,
            dataset=FAILURES_BY_RESOURCE,
            values=("service", "resource", "failures", "last_failure", "last_error"),
        ),
    ),
)
REDSHIFT_GOVERNANCE: Final = Dashboard(
    key="redshift_governance",
    title="Redshift governance",
    description="Sensitive statements (grants, drops, user changes) seen in user-activity logs.",
    visuals=(
        Visual(
            key="statements_per_user",
            title="Sensitive statements per user",
            subtitle="By category, last 7 days",
            chart=Chart.STACKED_BAR,
            dataset=SENSITIVE_STATEMENTS,
            category="user",
            values=("statements",),
            group="category",
        ),
        Visual(
            key="statements_by_type",
            title="Statements by type",
            subtitle="Last 7 days",
            chart=Chart.PIE,
            dataset=SENSITIVE_STATEMENTS,
            category="statement_type",
            values=("statements",),
        ),
        Visual(
            key="latest_statements",
            title="Who ran what",
            subtitle="Last 7 days, most frequent first",
            chart=Chart.TABLE,
            dataset=SENSITIVE_STATEMENTS,
            values=("user", "category", "statement_type", "statements", "last_seen"),
        ),
    ),
)

DASHBOARDS: Final = (CICD_METRICS, PIPELINE_FAILURES, REDSHIFT_GOVERNANCE)


def all_datasets() -> tuple[Dataset, ...]:
    """Every dataset some dashboard draws, each once."""
    return tuple(dict.fromkeys(d for dashboard in DASHBOARDS for d in dashboard.datasets))
