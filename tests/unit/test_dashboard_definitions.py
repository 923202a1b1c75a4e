"""The dashboards' one definition refuses visuals the QuickSight generator and the preview would
draw differently (or not at all): the rules are checked when a visual is defined."""

import pytest

from tools.dashboards.definitions import (
    DASHBOARDS,
    EXECUTIONS_PER_DAY,
    FAILING_STAGES_AND_ACTIONS,
    Aggregation,
    Chart,
    Dashboard,
    Visual,
    all_datasets,
    slug,
)


def chart(**overrides: object) -> Visual:
    """A valid stacked bar of executions per pipeline, with some fields changed."""
    fields: dict[str, object] = {
        "key": "v",
        "title": "t",
        "subtitle": "s",
        "chart": Chart.STACKED_BAR,
        "dataset": EXECUTIONS_PER_DAY,
        "category": "pipeline",
        "values": ("succeeded", "failed"),
    }
    return Visual(**{**fields, **overrides})  # type: ignore[arg-type]


def test_the_shipped_definitions_follow_the_rules() -> None:
    # Given the definitions as imported (a broken one would have raised at import)
    # Then every dashboard draws at least one visual, and every dataset is used
    assert all(dashboard.visuals for dashboard in DASHBOARDS)
    assert len(all_datasets()) == len({d.key for d in all_datasets()})


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"category": "no_such_column"}, "no column 'no_such_column'"),
        ({"group": "pipeline", "category": "day"}, "exactly one value"),
        ({"values": ("pipeline",), "category": "day"}, "value 'pipeline' is not a number"),
        ({"category": "failed", "values": ("failed",)}, "used twice"),
        ({"group": "day", "category": "day", "values": ("failed",)}, "used twice"),
        ({"category": None}, "needs a category and values"),
        ({"values": ()}, "needs a category and values"),
        ({"chart": Chart.TABLE}, "a table shows its values only"),
        ({"only": ("failed", "0")}, "only filters a text column"),
    ],
)
def test_a_visual_breaking_a_rule_is_refused_with_the_rule(
    overrides: dict[str, object], problem: str
) -> None:
    # Given a visual that breaks one rule; When it is defined; Then it is refused, saying which
    with pytest.raises(ValueError, match=problem):
        chart(**overrides)


def test_a_grouped_visual_with_one_value_and_an_only_filter_on_text_is_accepted() -> None:
    # Given a grouped line of one value, filtered on a text column
    made = chart(
        chart=Chart.LINE,
        category="day",
        values=("success_rate",),
        group="pipeline",
        aggregation=Aggregation.AVERAGE,
        only=("pipeline", "web-app"),
    )
    # Then it is defined as given
    assert (made.group, made.only) == ("pipeline", ("pipeline", "web-app"))


def test_a_dashboard_with_two_visuals_of_one_key_is_refused() -> None:
    # Given two visuals with the same key (their QuickSight VisualIds would collide)
    visual = chart()
    # When a dashboard holds both; Then it is refused
    with pytest.raises(ValueError, match="visual keys repeat"):
        Dashboard("d", "title", "description", (visual, visual))


def test_a_table_on_another_dataset_is_accepted_with_columns_only() -> None:
    # Given a table of some of a dataset's columns
    table = Visual(
        "t", "t", "s", Chart.TABLE, FAILING_STAGES_AND_ACTIONS, values=("pipeline", "failures")
    )
    # Then it needs no category and no aggregation
    assert table.category is None


def test_slug_is_the_key_with_dashes() -> None:
    assert slug("cicd_metrics") == "cicd-metrics"
