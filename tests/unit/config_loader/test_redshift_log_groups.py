"""The config's redshift_log_groups: the user activity log groups of provisioned clusters and
serverless namespaces, validated at upload, and the warehouse each group names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.pipeline_config import PipelineConfig, parse_pipeline_config
from datalake_shared.redshift_log_groups import (
    Warehouse,
    WarehouseKind,
    subscription_filter_name,
    warehouse_of,
)

BATCHES = "batches:\n  - {cadence: hourly, batch_size: 1, max_parallel_batches: 1}\n"
CLUSTER = "/aws/redshift/cluster/analytics/useractivitylog"
SERVERLESS = "/aws/redshift/finance/useractivitylog"


def parsed(section: str) -> PipelineConfig:
    return parse_pipeline_config(BATCHES + section, "pipeline.yaml")


def problems(section: str) -> list[str]:
    with pytest.raises(PipelineConfigError) as raised:
        parsed(section)
    return [str(problem) for problem in raised.value.problems]


def test_a_file_without_the_section_leaves_the_subscriptions_alone() -> None:
    # Given a file with no redshift_log_groups / Then the config says nothing about them
    assert parsed("").redshift_log_groups is None


def test_an_empty_list_is_kept_apart_from_an_absent_one() -> None:
    # Given an empty list / Then it means "no group": every subscription is removed
    assert parsed("redshift_log_groups: []\n").redshift_log_groups == []


def test_cluster_and_serverless_groups_are_accepted() -> None:
    config = parsed(f"redshift_log_groups:\n  - {CLUSTER}\n  - {SERVERLESS}\n")
    assert config.redshift_log_groups == [CLUSTER, SERVERLESS]


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("/aws/lambda/orders", "not a Redshift log group"),
        ("/aws/redshift/cluster/analytics/connectionlog", "only the useractivitylog group"),
        ("/aws/redshift/cluster/Analytics/useractivitylog", "lower-case letters"),
        ("/aws/redshift/cluster/a--b/useractivitylog", "single hyphens"),
        ("/aws/redshift/serverless/workgroup/x/useractivitylog", "(serverless)"),
    ],
)
def test_other_names_are_rejected_saying_why(group: str, expected: str) -> None:
    [problem] = problems(f"redshift_log_groups:\n  - {CLUSTER}\n  - {group}\n")
    assert problem.startswith("redshift_log_groups[1]: ")
    assert expected in problem
    assert "(line 5)" in problem


def test_a_group_listed_twice_is_rejected() -> None:
    [problem] = problems(f"redshift_log_groups:\n  - {CLUSTER}\n  - {CLUSTER}\n")
    assert f"listed more than once: {CLUSTER}" in problem


def test_a_single_name_instead_of_a_list_is_rejected() -> None:
    [problem] = problems(f"redshift_log_groups: {CLUSTER}\n")
    assert problem.startswith("redshift_log_groups: ")


@pytest.mark.parametrize(
    ("group", "warehouse"),
    [
        (CLUSTER, Warehouse(WarehouseKind.CLUSTER, "analytics")),
        (SERVERLESS, Warehouse(WarehouseKind.SERVERLESS, "finance")),
        ("/aws/redshift/cluster/" + "a" * 64 + "/useractivitylog", None),
        ("/aws/redshift/ab/useractivitylog", None),  # a namespace has 3 characters or more
        ("/custom/group", None),
    ],
)
def test_the_warehouse_comes_from_the_group_name(group: str, warehouse: Warehouse | None) -> None:
    assert warehouse_of(group) == warehouse


# Redshift's identifier rule; its 63-character limit is not a regex's to express.
@given(st.from_regex(r"[a-z](-?[a-z0-9]){0,62}", fullmatch=True).filter(lambda s: len(s) <= 63))
def test_every_valid_cluster_identifier_names_its_cluster(identifier: str) -> None:
    # Given any identifier Redshift accepts / Then its group is valid and names it
    group = f"/aws/redshift/cluster/{identifier}/useractivitylog"
    assert warehouse_of(group) == Warehouse(WarehouseKind.CLUSTER, identifier)
    assert parsed(f"redshift_log_groups: ['{group}']\n").redshift_log_groups == [group]


def test_the_filter_name_is_the_stacks() -> None:
    assert subscription_filter_name("datalake-events-dev") == "datalake-events-dev-redshift-audit"
