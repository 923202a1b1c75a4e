"""Redshift alerts from several warehouses through the template: the pipeline config lists the
user activity log groups → the config loader puts one subscription filter on each → CloudWatch
Logs delivers the statement lines (filter "LOG:") to redshift_audit → audited and alerted with
the warehouse they came from."""

from typing import Any

import pytest

from dev.demo.redshift import (
    CLUSTER_GROUP,
    SERVERLESS_GROUP,
    activity_line,
    create_log_group,
    put_lines,
    subscribed,
    upload_config,
)
from dev.demo.run import EXAMPLE_CONFIG
from dev.demo.support import athena_rows
from local_runtime import LocalRuntime

pytestmark = pytest.mark.dynamodb_incidental

FILTER = "datalake-events-local-redshift-audit"  # <stack>-redshift-audit


def audit_invocations(runtime: LocalRuntime) -> list[Any]:
    return [i for i in runtime.invocations if "RedshiftAudit" in i.function]


def reconciled(summary: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = summary["reconciled"]["redshift_log_groups"]
    return result


def two_watched_warehouses(runtime: LocalRuntime) -> dict[str, Any]:
    create_log_group(runtime, CLUSTER_GROUP, "analytics")
    create_log_group(runtime, SERVERLESS_GROUP, "finance")
    return upload_config(runtime, EXAMPLE_CONFIG, [CLUSTER_GROUP, SERVERLESS_GROUP])


def test_statements_of_two_warehouses_are_audited_and_alerted_with_their_source(
    runtime: LocalRuntime,
) -> None:
    # Given a provisioned cluster's and a serverless namespace's groups listed in the config
    summary = two_watched_warehouses(runtime)
    assert sorted(reconciled(summary)["created"]) == sorted([CLUSTER_GROUP, SERVERLESS_GROUP])
    # When a GRANT is logged by the cluster (after a connection line and a SELECT) and a DROP by
    # the serverless namespace
    put_lines(
        runtime,
        CLUSTER_GROUP,
        "analytics",
        [
            "authenticated: user=bob db=dev",
            activity_line("SELECT 1", user="bob"),
            activity_line("GRANT ALL ON SCHEMA sales TO bob", user="alice"),
        ],
    )
    put_lines(
        runtime,
        SERVERLESS_GROUP,
        "finance",
        [activity_line("DROP TABLE finance.ledger_2025", user="carol", db="finance")],
    )
    runtime.settle()
    # Then CloudWatch Logs delivered only the statement lines, one batch per group
    delivered = {batch.log_group: len(batch.log_events) for batch in runtime.logs_bridge.delivered}
    assert delivered == {CLUSTER_GROUP: 2, SERVERLESS_GROUP: 1}
    assert all(invocation.ok for invocation in audit_invocations(runtime))
    # And each sensitive statement is audited with its warehouse
    _, rows = athena_rows(
        runtime, "SELECT cluster, user, statement_type FROM redshift_audit ORDER BY cluster"
    )
    assert rows == [["analytics", "alice", "GRANT"], ["finance", "carol", "DROP TABLE"]]
    # And alerted once per warehouse, naming it
    headers = [post["blocks"][0]["text"]["text"] for post in runtime.slack_bridge.sink.bodies()]
    assert len(headers) == 2
    assert sum("analytics" in header for header in headers) == 1
    assert sum("finance" in header for header in headers) == 1


def test_a_group_dropped_from_the_config_loses_its_subscription(runtime: LocalRuntime) -> None:
    # Given both groups watched
    two_watched_warehouses(runtime)
    # When the config lists only the cluster's group
    summary = upload_config(runtime, EXAMPLE_CONFIG, [CLUSTER_GROUP])
    # Then the serverless group's filter is deleted, the cluster's kept
    assert reconciled(summary)["removed"] == [SERVERLESS_GROUP]
    assert subscribed(runtime, SERVERLESS_GROUP) == []
    assert subscribed(runtime, CLUSTER_GROUP) == [FILTER]
    # And its statements no longer reach redshift_audit
    put_lines(runtime, SERVERLESS_GROUP, "finance", [activity_line("DROP TABLE x", user="eve")])
    runtime.settle()
    assert audit_invocations(runtime) == []


def test_loading_the_same_config_again_changes_nothing(runtime: LocalRuntime) -> None:
    # Given both groups watched / When the same config is uploaded again
    two_watched_warehouses(runtime)
    summary = upload_config(runtime, EXAMPLE_CONFIG, [CLUSTER_GROUP, SERVERLESS_GROUP])
    # Then both subscriptions are as they were
    assert reconciled(summary) == {"created": [], "updated": [], "removed": [], "unchanged": 2}
    assert subscribed(runtime, CLUSTER_GROUP) == [FILTER]


def test_a_group_that_does_not_exist_yet_is_subscribed_by_a_later_load(
    runtime: LocalRuntime,
) -> None:
    # Given a config listing a cluster whose audit logging has not written yet
    summary = upload_config(runtime, EXAMPLE_CONFIG, [CLUSTER_GROUP])
    # Then the load succeeds, saying why the group was skipped
    assert summary["outcome"] == "applied"
    [problem] = reconciled(summary)["skipped"]
    assert problem.startswith(f"{CLUSTER_GROUP}: the log group does not exist yet")
    # When the group appears and the config is loaded again / Then it is subscribed
    create_log_group(runtime, CLUSTER_GROUP, "analytics")
    summary = upload_config(runtime, EXAMPLE_CONFIG, [CLUSTER_GROUP])
    assert reconciled(summary)["created"] == [CLUSTER_GROUP]
