"""The template's side of the Redshift log subscriptions the config loader keeps: the names the
config accepts are the ones the loader may subscribe and CloudWatch Logs may invoke from, and
the filter the loader puts is the one the single-group parameter's subscription has."""

import fnmatch
from typing import Any

import pytest
from settings_support import template_variables, variables_read

from datalake_shared.redshift_log_groups import (
    SUBSCRIPTION_FILTER_PATTERN,
    subscription_filter_name,
    warehouse_of,
)
from datalake_shared.redshift_subscriptions import RedshiftSubscriptionSettings
from tests.unit.template_support import Template

GROUPS = [
    "/aws/redshift/cluster/analytics/useractivitylog",
    "/aws/redshift/finance/useractivitylog",
]
OUTSIDE = [
    "/aws/lambda/orders",
    "/aws/redshift/cluster/analytics/connectionlog",
    "/aws/redshift-other/useractivitylog",
]
PREFIX = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"


def loader_statement(template: Template, sid: str) -> dict[str, Any]:
    function = template["Resources"]["ConfigLoaderFunction"]
    for policy in function["Properties"]["Policies"]:
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            if statement.get("Sid") == sid:
                return dict(statement)
    raise KeyError(sid)


def patterns(resource: Any) -> list[str]:
    """The ARN patterns of a Resource or SourceArn (each a !Sub string)."""
    items = resource if isinstance(resource, list) else [resource]
    return [item["Fn::Sub"] for item in items]


def allowed(arn_patterns: list[str], group: str) -> bool:
    return any(
        fnmatch.fnmatchcase(f"{PREFIX}{group}{suffix}", pattern)
        for pattern in arn_patterns
        for suffix in ("", ":*")
    )


@pytest.mark.parametrize("group", GROUPS)
def test_the_loader_may_subscribe_every_group_the_config_accepts(
    sam_template: Template, group: str
) -> None:
    # Given a group the config accepts
    assert warehouse_of(group) is not None
    statement = loader_statement(sam_template, "KeepRedshiftSubscriptions")
    # Then the loader may describe, put and delete its filters
    assert set(statement["Action"]) == {
        "logs:DescribeSubscriptionFilters",
        "logs:PutSubscriptionFilter",
        "logs:DeleteSubscriptionFilter",
    }
    assert allowed(patterns(statement["Resource"]), group)
    # And CloudWatch Logs may invoke the audit function from it, for this account only
    permission = sam_template["Resources"]["RedshiftLogGroupsInvokePermission"]["Properties"]
    assert permission["Principal"] == "logs.amazonaws.com"
    assert permission["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert allowed(patterns(permission["SourceArn"]), f"{group}:*")


@pytest.mark.parametrize("group", OUTSIDE)
def test_no_other_group_can_be_subscribed_or_invoke(sam_template: Template, group: str) -> None:
    statement = loader_statement(sam_template, "KeepRedshiftSubscriptions")
    permission = sam_template["Resources"]["RedshiftLogGroupsInvokePermission"]["Properties"]
    assert not allowed(patterns(statement["Resource"]), group)
    assert not allowed(patterns(permission["SourceArn"]), f"{group}:*")


def test_the_loader_is_told_the_stacks_filter_and_the_audit_function(
    sam_template: Template,
) -> None:
    # Given the loader's environment
    variables = sam_template["Resources"]["ConfigLoaderFunction"]["Properties"]["Environment"]
    environment = variables["Variables"]
    # Then every variable the settings read is set
    assert variables_read(RedshiftSubscriptionSettings) <= template_variables(
        sam_template, "ConfigLoaderFunction"
    )
    # And the filter name is the one tools/load_config and the docs name
    assert environment["REDSHIFT_SUBSCRIPTION_FILTER"] == {
        "Fn::Sub": subscription_filter_name("${AWS::StackName}")
    }
    assert environment["REDSHIFT_AUDIT_FUNCTION_ARN"] == {
        "Fn::GetAtt": ["RedshiftAuditFunction", "Arn"]
    }


def test_the_config_filters_as_the_single_group_subscription_does(sam_template: Template) -> None:
    legacy = sam_template["Resources"]["RedshiftUserActivitySubscription"]["Properties"]
    assert legacy["FilterPattern"] == SUBSCRIPTION_FILTER_PATTERN
