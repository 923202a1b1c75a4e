"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from lambda_support import sample_event_names
from redshift_audit_fakes import load_event
from redshift_audit_payloads import (
    CONTROL_PAYLOAD,
    DDL_SAMPLE_MESSAGES,
    awslogs_event,
    data_message,
    decoded,
)

from redshift_audit.models import decode_payload

SAMPLES = sample_event_names("redshift_audit")
PAYLOAD_FIELDS = {
    "messageType",
    "owner",
    "logGroup",
    "logStream",
    "subscriptionFilters",
    "logEvents",
}


def test_corpus_holds_the_documented_cases() -> None:
    assert SAMPLES == ["control_message.json", "user_activity_ddl.json"]


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_is_a_subscription_event_lambda_can_decode(name: str) -> None:
    # Given a sample / When decoded with the handler's model / Then it has the subscription shape
    event = load_event(name)
    assert set(event) == {"awslogs"}
    payload = decode_payload(event)
    assert payload.messageType in {"DATA_MESSAGE", "CONTROL_MESSAGE"}
    assert set(decoded(event)) == PAYLOAD_FIELDS


def test_ddl_sample_is_the_documented_payload() -> None:
    # Given the committed sample / Then it decodes to exactly the payload the generator builds
    assert decoded(load_event("user_activity_ddl.json")) == data_message(*DDL_SAMPLE_MESSAGES)
    assert load_event("user_activity_ddl.json") == awslogs_event(data_message(*DDL_SAMPLE_MESSAGES))


def test_control_sample_is_cloudwatchs_health_check() -> None:
    payload = decoded(load_event("control_message.json"))
    assert payload == CONTROL_PAYLOAD
    assert payload["owner"] == "CloudwatchLogs"


def test_ddl_sample_comes_from_a_redshift_user_activity_log_group() -> None:
    payload = decoded(load_event("user_activity_ddl.json"))
    assert payload["logGroup"].startswith("/aws/redshift/cluster/")
    assert payload["logGroup"].endswith("/useractivitylog")
    assert all(event["id"].isdigit() for event in payload["logEvents"])
