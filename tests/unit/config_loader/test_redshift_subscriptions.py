"""The Redshift subscriptions reconciler on moto's CloudWatch Logs: one filter of the stack's
name per listed group, updated when it differs, removed from groups no longer listed, and a
group that cannot take it skipped with the reason, never a failed load."""

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.redshift_subscriptions import (
    CloudWatchLogsSubscriptions,
    RedshiftSubscriptions,
    RedshiftSubscriptionSettings,
    SubscriptionChanges,
    redshift_subscription_reconciler,
)

FILTER = "datalake-events-test-redshift-audit"
CLUSTER = "/aws/redshift/cluster/analytics/useractivitylog"
SERVERLESS = "/aws/redshift/finance/useractivitylog"
OTHER_CLUSTER = "/aws/redshift/cluster/legacy/useractivitylog"


def config(groups: list[str] | None) -> PipelineConfig:
    data: dict[str, Any] = {
        "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}]
    }
    if groups is not None:
        data["redshift_log_groups"] = groups
    return PipelineConfig.model_validate(data)


def _zipped_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def create_function(name: str) -> str:
    role = boto3.client("iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument="{}", Path="/"
    )["Role"]["Arn"]
    arn: str = boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zipped_handler()},
    )["FunctionArn"]
    return arn


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto's CloudWatch Logs with three Redshift groups, the audit function and another."""
    with mock_aws():
        logs = boto3.client("logs")
        for group in (CLUSTER, SERVERLESS, OTHER_CLUSTER):
            logs.create_log_group(logGroupName=group)
        yield {
            "logs": logs,
            "function": create_function("redshift-audit"),
            "shipper": create_function("log-shipper"),
        }


def reconciler(aws: dict[str, Any]) -> RedshiftSubscriptions:
    return RedshiftSubscriptions(FILTER, aws["function"], CloudWatchLogsSubscriptions(aws["logs"]))


def filters_of(aws: dict[str, Any], group: str) -> dict[str, tuple[str, str]]:
    found = aws["logs"].describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    return {f["filterName"]: (f["filterPattern"], f["destinationArn"]) for f in found}


def put_filter(aws: dict[str, Any], group: str, name: str, destination: str, pattern: str) -> None:
    aws["logs"].put_subscription_filter(
        logGroupName=group, filterName=name, filterPattern=pattern, destinationArn=destination
    )


def test_each_listed_group_gets_the_stacks_filter(aws: dict[str, Any]) -> None:
    # Given two groups listed / When reconciled
    changes = reconciler(aws).reconcile(config([CLUSTER, SERVERLESS]))
    # Then each has one filter of the stack's name, statement lines to the audit function
    assert changes.created == (CLUSTER, SERVERLESS)
    for group in (CLUSTER, SERVERLESS):
        assert filters_of(aws, group) == {FILTER: ('"LOG:"', aws["function"])}
    # And a group not listed has none
    assert filters_of(aws, OTHER_CLUSTER) == {}


def test_reconciling_the_same_config_again_changes_nothing(aws: dict[str, Any]) -> None:
    reconciler(aws).reconcile(config([CLUSTER, SERVERLESS]))
    changes = reconciler(aws).reconcile(config([CLUSTER, SERVERLESS]))
    assert not changes.changed
    assert changes.unchanged == (CLUSTER, SERVERLESS)


def test_a_filter_that_differs_is_put_again(aws: dict[str, Any]) -> None:
    # Given the stack's filter with another pattern (edited by hand)
    put_filter(aws, CLUSTER, FILTER, aws["function"], "")
    # When reconciled / Then it is put back as the stack wants it
    changes = reconciler(aws).reconcile(config([CLUSTER]))
    assert changes.updated == (CLUSTER,)
    assert filters_of(aws, CLUSTER) == {FILTER: ('"LOG:"', aws["function"])}


def test_a_group_no_longer_listed_loses_only_the_stacks_filter(aws: dict[str, Any]) -> None:
    # Given both groups subscribed, and a log shipper's filter on the serverless group too
    reconciler(aws).reconcile(config([CLUSTER, SERVERLESS]))
    put_filter(aws, SERVERLESS, "shipper", aws["shipper"], "")
    # When the config lists only the cluster
    changes = reconciler(aws).reconcile(config([CLUSTER]))
    # Then the serverless group keeps the shipper's filter only
    assert changes.removed == (SERVERLESS,)
    assert filters_of(aws, SERVERLESS) == {"shipper": ("", aws["shipper"])}
    assert FILTER in filters_of(aws, CLUSTER)


def test_an_empty_list_removes_every_subscription(aws: dict[str, Any]) -> None:
    reconciler(aws).reconcile(config([CLUSTER, SERVERLESS]))
    changes = reconciler(aws).reconcile(config([]))
    assert sorted(changes.removed) == sorted([CLUSTER, SERVERLESS])
    assert filters_of(aws, CLUSTER) == filters_of(aws, SERVERLESS) == {}


def test_a_file_without_the_section_makes_no_call() -> None:
    # Given an adapter that fails on any use / When a file without the section is reconciled
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"CloudWatch Logs called: {name}")

    subscriptions = RedshiftSubscriptions(FILTER, "arn:aws:lambda:x", Untouchable())  # type: ignore[arg-type]
    # Then nothing is changed, and the summary says so
    assert subscriptions.reconcile(config(None)) == SubscriptionChanges()


def test_a_group_that_does_not_exist_yet_is_skipped_with_the_reason(aws: dict[str, Any]) -> None:
    # Given a listed cluster whose group Redshift has not created yet
    missing = "/aws/redshift/cluster/newcluster/useractivitylog"
    # When reconciled / Then the others are subscribed, it is skipped saying why
    changes = reconciler(aws).reconcile(config([missing, CLUSTER]))
    assert changes.created == (CLUSTER,)
    assert changes.skipped == (missing,)
    [problem] = changes.summary()["skipped"]  # type: ignore[misc]
    assert problem.startswith(f"{missing}: the log group does not exist yet")
    assert "next load" in problem


def test_a_group_the_template_parameter_subscribes_is_not_subscribed_twice(
    aws: dict[str, Any],
) -> None:
    # Given the cluster already sent to the function by the stack's single-group filter
    put_filter(aws, CLUSTER, "stack-RedshiftUserActivitySubscription", aws["function"], '"LOG:"')
    # When it is listed too / Then it is skipped: one filter per group delivers each line once
    changes = reconciler(aws).reconcile(config([CLUSTER]))
    assert changes.skipped == (CLUSTER,)
    assert "RedshiftUserActivityLogGroup" in changes.problems[0]
    assert list(filters_of(aws, CLUSTER)) == ["stack-RedshiftUserActivitySubscription"]


def test_the_stacks_filter_goes_when_the_template_parameter_subscribes_the_group_too(
    aws: dict[str, Any],
) -> None:
    # Given the cluster subscribed by the config, then by the single-group parameter as well
    reconciler(aws).reconcile(config([CLUSTER]))
    put_filter(aws, CLUSTER, "stack-RedshiftUserActivitySubscription", aws["function"], '"LOG:"')
    # When the config is loaded again / Then the stack's filter goes: each line arrives once
    changes = reconciler(aws).reconcile(config([CLUSTER]))
    assert (changes.skipped, changes.removed) == ((CLUSTER,), (CLUSTER,))
    assert list(filters_of(aws, CLUSTER)) == ["stack-RedshiftUserActivitySubscription"]


def test_a_group_with_two_other_filters_is_skipped(aws: dict[str, Any]) -> None:
    # Given a group with the two filters CloudWatch Logs allows, neither the stack's
    put_filter(aws, CLUSTER, "shipper-a", aws["shipper"], "")
    put_filter(aws, CLUSTER, "shipper-b", aws["shipper"], "ERROR")
    # When listed / Then skipped, naming them
    changes = reconciler(aws).reconcile(config([CLUSTER]))
    assert changes.skipped == (CLUSTER,)
    assert "shipper-a, shipper-b" in changes.problems[0]


def test_other_aws_errors_are_raised_so_the_load_is_retried() -> None:
    # Given CloudWatch Logs refusing the loader
    class Denying:
        def get_paginator(self, name: str) -> Any:
            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, name)

    subscriptions = RedshiftSubscriptions(
        FILTER,
        "arn:aws:lambda:x",
        CloudWatchLogsSubscriptions(Denying()),  # type: ignore[arg-type]
    )
    # When reconciled / Then the error propagates
    with pytest.raises(ClientError, match="AccessDenied"):
        subscriptions.reconcile(config([CLUSTER]))


def test_the_summary_lists_what_changed_and_what_was_skipped() -> None:
    changes = SubscriptionChanges(
        created=(CLUSTER,), unchanged=(SERVERLESS,), skipped=("g",), problems=("g: why",)
    )
    assert changes.summary() == {
        "created": [CLUSTER],
        "updated": [],
        "removed": [],
        "unchanged": 1,
        "skipped": ["g: why"],
    }


def test_the_reconciler_is_built_from_the_loaders_settings_without_aws() -> None:
    # Given the environment the template sets on the config loader
    settings = RedshiftSubscriptionSettings.model_validate(
        {
            "REDSHIFT_AUDIT_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:f",
            "REDSHIFT_SUBSCRIPTION_FILTER": FILTER,
        }
    )
    # When the reconciler is built / Then it wants that filter, and has made no client yet
    built = redshift_subscription_reconciler(settings)
    assert (built.wanted.name, built.wanted.destination_arn) == (
        FILTER,
        settings.redshift_audit_function_arn,
    )
    assert "client" not in vars(built.logs)
