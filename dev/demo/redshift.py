"""Demo section: Redshift alerts from several warehouses, one log subscription each.

Two user activity log groups, a provisioned cluster's and a serverless namespace's, are listed
in the pipeline config (``redshift_log_groups``); the config loader subscribes each to
redshift_audit. Statements written to the groups are delivered by CloudWatch Logs (the local
runtime's bridge applies the ``"LOG:"`` filter), audited and alerted with their warehouse. Then
one group is dropped from the config and loses its subscription.
"""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from dev.demo.support import athena_rows
from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

CLUSTER_GROUP: Final = "/aws/redshift/cluster/analytics/useractivitylog"
SERVERLESS_GROUP: Final = "/aws/redshift/finance/useractivitylog"
CONFIG_KEY: Final = "config/pipeline.yaml"


def activity_line(sql: str, *, user: str, db: str = "dev", xid: int = 5678) -> str:
    """One user activity record as Redshift writes it (time: now)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"'{now} UTC [ db={db} user={user} pid=1234 userid=100 xid={xid} ]' LOG: {sql}"


def config_with_log_groups(base_config: Path, groups: list[str]) -> bytes:
    """The pipeline config file with a ``redshift_log_groups`` section listing ``groups``."""
    if groups:
        section = "redshift_log_groups:\n" + "".join(f"  - {group}\n" for group in groups)
    else:  # listed but empty: every group loses the subscription
        section = "redshift_log_groups: []\n"
    text = base_config.read_text(encoding="utf-8").rstrip("\n")
    return f"{text}\n\n{section}".encode()


def upload_config(runtime: "LocalRuntime", base_config: Path, groups: list[str]) -> Any:
    """Uploads the config listing ``groups``; returns the config loader's summary."""
    runtime.s3.put_object(
        Bucket=runtime.outputs["ConfigBucketName"],
        Key=CONFIG_KEY,
        Body=config_with_log_groups(base_config, groups),
    )
    runtime.settle()
    loads = [i for i in runtime.invocations if "ConfigLoader" in i.function]
    return loads[-1].response


def create_log_group(runtime: "LocalRuntime", group: str, stream: str) -> None:
    """What Redshift does with its first line once audit logging to CloudWatch is on."""
    logs = runtime.client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)


def put_lines(runtime: "LocalRuntime", group: str, stream: str, lines: list[str]) -> None:
    now_ms = int(time.time() * 1000)
    runtime.client("logs").put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": now_ms, "message": line} for line in lines],
    )


def subscribed(runtime: "LocalRuntime", group: str) -> list[str]:
    filters = runtime.client("logs").describe_subscription_filters(logGroupName=group)
    return [f["filterName"] for f in filters["subscriptionFilters"]]


def run(runtime: "LocalRuntime", base_config: Path) -> None:
    create_log_group(runtime, CLUSTER_GROUP, "analytics")
    create_log_group(runtime, SERVERLESS_GROUP, "finance")
    summary = upload_config(runtime, base_config, [CLUSTER_GROUP, SERVERLESS_GROUP])
    reconciled = summary.get("reconciled", {}).get("redshift_log_groups", {})
    posts_before = len(runtime.slack_bridge.sink.bodies())
    put_lines(
        runtime,
        CLUSTER_GROUP,
        "analytics",
        [
            "authenticated: user=bob db=dev",  # a connection line: the filter drops it
            activity_line("SELECT count(*) FROM sales.orders", user="bob"),
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

    print(
        "\n7. Redshift: two warehouses listed in the config (redshift_log_groups); the config "
        f"loader subscribed {len(reconciled.get('created', []))} group(s):"
    )
    print(
        table(
            ["log group", "subscription filters"],
            [[g, ", ".join(subscribed(runtime, g))] for g in (CLUSTER_GROUP, SERVERLESS_GROUP)],
        )
    )
    delivered = runtime.logs_bridge.delivered
    print(
        "\n   Written: a connection line, a SELECT and a GRANT to the cluster's group, a DROP to "
        'the namespace\'s;\n   delivered by CloudWatch Logs (filter "LOG:") to redshift_audit:'
    )
    print(
        table(
            ["log group", "log events"],
            [[batch.log_group, len(batch.log_events)] for batch in delivered],
        )
    )
    _, rows = athena_rows(
        runtime,
        "SELECT cluster, user, statement_type, object_name FROM redshift_audit "
        "WHERE cluster IN ('analytics', 'finance') ORDER BY cluster",
    )
    print("\n   Audited (redshift_audit) and alerted, with the warehouse of each statement:")
    print(table(["cluster / namespace", "user", "statement", "object"], rows))
    posts = runtime.slack_bridge.sink.bodies()[posts_before:]
    headers = [str(post["blocks"][0]["text"]["text"]) for post in posts if post.get("blocks")]
    print(table(["posted to Slack"], [[header] for header in headers]))

    upload_config(runtime, base_config, [CLUSTER_GROUP])
    print("\n   The serverless group removed from the config:")
    print(
        table(
            ["log group", "subscription filters"],
            [
                [g, ", ".join(subscribed(runtime, g)) or "(none)"]
                for g in (CLUSTER_GROUP, SERVERLESS_GROUP)
            ],
        )
    )
