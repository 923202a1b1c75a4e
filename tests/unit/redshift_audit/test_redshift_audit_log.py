"""Decoding the subscription payload and reading Redshift user-activity records."""

import base64

import pytest
from redshift_audit_payloads import LOG_GROUP, activity_line, awslogs_event, data_message

from redshift_audit.models import (
    InvalidPayloadError,
    UserActivity,
    cluster_of,
    decode_payload,
    parse_user_activity,
)


def test_record_header_and_sql_are_read() -> None:
    # Given the post's sample line / When parsed
    line = (
        "'2023-04-02T04:18:43Z UTC [ db=dev user=awsuser pid=100 userid=100 xid=100 ]' LOG: "
        "alter table my_table alter column string type varchar(16);"
    )
    # Then every header field and the SQL come out
    assert parse_user_activity(line) == [
        UserActivity(
            query_time="2023-04-02T04:18:43Z",
            database="dev",
            user="awsuser",
            pid="100",
            userid="100",
            xid="100",
            sql="alter table my_table alter column string type varchar(16);",
        )
    ]


def test_sql_spanning_lines_is_kept_whole() -> None:
    # Given SQL over three lines
    line = activity_line("create table t (\n  id int,\n  name varchar(10)\n);")
    # When parsed / Then the SQL keeps its lines
    [record] = parse_user_activity(line)
    assert record.sql == "create table t (\n  id int,\n  name varchar(10)\n);"


def test_several_records_in_one_message_are_all_read() -> None:
    # Given two records in one message (one per line)
    message = activity_line("drop table a;", xid=1) + "\n" + activity_line("drop table b;", xid=2)
    # When parsed / Then both, in order
    assert [(r.xid, r.sql) for r in parse_user_activity(message)] == [
        ("1", "drop table a;"),
        ("2", "drop table b;"),
    ]


@pytest.mark.parametrize("message", ["", "LOG: drop table x", "connection authorized: user=bob"])
def test_lines_that_are_not_user_activity_give_nothing(message: str) -> None:
    assert parse_user_activity(message) == []


@pytest.mark.parametrize(
    ("log_group", "cluster"),
    [
        (LOG_GROUP, "demo-cluster-ou1"),
        ("/aws/redshift/serverless/workgroup/analytics/useractivitylog", "analytics"),
        ("/aws/redshift/finance/useractivitylog", "finance"),  # a serverless namespace's
        ("/custom/group", "/custom/group"),
    ],
)
def test_cluster_comes_from_the_log_group(log_group: str, cluster: str) -> None:
    assert cluster_of(log_group) == cluster


def test_payload_is_decoded_from_base64_gzip() -> None:
    # Given a subscription event / When decoded / Then the log events are there
    payload = decode_payload(awslogs_event(data_message(activity_line("select 1"))))
    assert (payload.messageType, payload.logGroup, len(payload.logEvents)) == (
        "DATA_MESSAGE",
        LOG_GROUP,
        1,
    )


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"awslogs": {}},
        {"awslogs": {"data": "not base64 gzip"}},
        {"awslogs": {"data": base64.b64encode(b"plain bytes").decode()}},
    ],
)
def test_anything_else_is_an_invalid_payload(event: dict[str, object]) -> None:
    with pytest.raises(InvalidPayloadError, match=r"^expected a CloudWatch Logs subscription"):
        decode_payload(event)
