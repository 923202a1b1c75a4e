"""`python -m tools.load_config` keeps the Redshift log subscriptions as the config loader does,
reading the filter's name and destination from the loader function's environment."""

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from datalake_shared.pipeline_config import PipelineConfig
from tools import load_config

CLUSTER = "/aws/redshift/cluster/analytics/useractivitylog"
MISSING = "/aws/redshift/finance/useractivitylog"
FILTER = "datalake-events-test-redshift-audit"


def config(groups: list[str] | None) -> PipelineConfig:
    data: dict[str, Any] = {
        "batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}]
    }
    if groups is not None:
        data["redshift_log_groups"] = groups
    return PipelineConfig.model_validate(data)


def _function(name: str, environment: dict[str, str]) -> str:
    role = boto3.client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    arn: str = boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
        Environment={"Variables": environment},
    )["FunctionArn"]
    return arn


@pytest.fixture
def clients() -> Iterator[dict[str, Any]]:
    """moto: the audit function, the loader function with the template's environment, and the
    cluster's user activity log group."""
    with mock_aws():
        audit = _function("redshift-audit", {})
        _function(
            "config-loader",
            {"REDSHIFT_AUDIT_FUNCTION_ARN": audit, "REDSHIFT_SUBSCRIPTION_FILTER": FILTER},
        )
        logs = boto3.client("logs")
        logs.create_log_group(logGroupName=CLUSTER)
        yield {"lambda": boto3.client("lambda"), "logs": logs, "audit": audit}


def reconcile(clients: dict[str, Any], groups: list[str] | None, loader: str | None) -> str:
    session = boto3.session.Session()
    return load_config._reconcile_redshift_log_groups(config(groups), loader, clients, session)


def test_the_listed_groups_are_subscribed_and_the_missing_ones_reported(
    clients: dict[str, Any],
) -> None:
    # Given a file listing an existing and a not yet existing group / When applied
    text = reconcile(clients, [CLUSTER, MISSING], "config-loader")
    # Then the existing one is subscribed, the other reported with the reason
    filters = clients["logs"].describe_subscription_filters(logGroupName=CLUSTER)
    assert [f["filterName"] for f in filters["subscriptionFilters"]] == [FILTER]
    assert f"  subscribed {CLUSTER}" in text
    assert f"  NOT subscribed {MISSING}: the log group does not exist yet" in text


def test_a_file_without_the_section_prints_nothing_about_them(clients: dict[str, Any]) -> None:
    assert reconcile(clients, None, "config-loader") == ""


def test_without_the_stack_the_subscriptions_are_left_saying_so(clients: dict[str, Any]) -> None:
    text = reconcile(clients, [CLUSTER], None)
    assert "not changed" in text
    filters = clients["logs"].describe_subscription_filters(logGroupName=CLUSTER)
    assert filters["subscriptionFilters"] == []


def test_the_dry_run_lists_the_groups(tmp_path: Any) -> None:
    # Given a file with the section / When checked with --dry-run / Then it lists them
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "batches:\n  - {cadence: hourly, batch_size: 1, max_parallel_batches: 1}\n"
        f"redshift_log_groups:\n  - {CLUSTER}\n"
    )
    out = io.StringIO()
    assert load_config.main([str(path), "--dry-run"], out=out, err=io.StringIO()) == 0
    assert f"Redshift log groups (one subscription each)\n  {CLUSTER}" in out.getvalue()
