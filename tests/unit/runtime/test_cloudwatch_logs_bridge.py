"""The CloudWatch Logs bridge's pure parts: which log events a subscription filter pattern lets
through, and the event a subscribed function receives. The delivery itself is covered in
tests/integration/test_redshift_log_groups.py."""

import pytest
from aws_lambda_powertools.utilities.parser.models import CloudWatchLogsModel
from hypothesis import given
from hypothesis import strategies as st

from local_runtime.bridges.cloudwatch_logs import (
    filter_pattern_terms,
    matches_filter_pattern,
    subscription_event,
)

LINE = "'2026-11-20T10:15:30Z UTC [ db=dev user=alice pid=1 userid=1 xid=1 ]' LOG: DROP TABLE t"


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        ('"LOG:"', LINE, True),
        ('"LOG:"', "authenticated: user=bob", False),
        ('"LOG:"', "log: lower case", False),  # terms are case-sensitive
        ("", "anything", True),
        ("   ", "anything", True),
        ('DROP "LOG:"', LINE, True),  # every term must appear
        ('GRANT "LOG:"', LINE, False),
    ],
)
def test_a_pattern_lets_through_the_events_holding_all_its_terms(
    pattern: str, message: str, matches: bool
) -> None:
    assert matches_filter_pattern(pattern, message) is matches


@pytest.mark.parametrize(
    "pattern",
    ["?ERROR ?WARN", "-DEBUG", '{ $.level = "error" }', "[ip, user, ...]", "%ERR.R%", "LOG:"],
)
def test_other_pattern_syntax_is_refused_naming_it(pattern: str) -> None:
    with pytest.raises(NotImplementedError, match="local runtime matches"):
        filter_pattern_terms(pattern)


@given(st.text(alphabet=st.characters(blacklist_characters='"\\'), max_size=20), st.text())
def test_a_quoted_term_matches_exactly_the_messages_containing_it(term: str, message: str) -> None:
    assert matches_filter_pattern(f'"{term}"', message) is (term in message)


def test_the_event_is_the_subscription_payload_lambda_receives() -> None:
    # Given two log events of a group / When wrapped for the subscribed function
    event = subscription_event(
        owner="123456789012",
        log_group="/aws/redshift/finance/useractivitylog",
        log_stream="finance",
        filter_name="stack-redshift-audit",
        log_events=[
            {"id": 7, "timestamp": 1_795_169_731_000, "message": LINE},
            {"id": 8, "timestamp": 1_795_169_731_001, "message": LINE},
        ],
    )
    # Then it parses as CloudWatch Logs' (base64 gzip JSON), with every field in place
    data = CloudWatchLogsModel.model_validate(event).awslogs.decoded_data
    assert data.messageType == "DATA_MESSAGE"
    assert (data.owner, data.logGroup, data.logStream) == (
        "123456789012",
        "/aws/redshift/finance/useractivitylog",
        "finance",
    )
    assert data.subscriptionFilters == ["stack-redshift-audit"]
    assert [(e.id, e.message) for e in data.logEvents] == [("7", LINE), ("8", LINE)]
