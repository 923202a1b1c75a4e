"""tools.test_alert's pure parts: the synthetic failure it publishes, as pipeline_monitor reads
it, and the exit code its findings give. Publishing and polling a deployed stack run against the
local runtime (tests/integration/test_test_alert.py)."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from pipeline_monitor.records import Service, Severity
from tools.test_alert import (
    COMPLETED,
    EXIT_NOT_POSTED,
    EXIT_NOT_STORED,
    ProbeResult,
    describe,
    expected_record,
    synthetic_failure,
)

TOPIC = "arn:aws:sns:eu-west-1:111122223333:datalake-events-dev-MonitorTopic-Q1w2E3r4T5y6"


def test_the_synthetic_failure_is_an_alerted_glue_failure_marked_as_a_test() -> None:
    # Given a fresh event id for stack "datalake-events-dev"
    event_id = str(uuid.uuid4())
    # When the tool builds its event and pipeline_monitor's normalizer reads it
    event = synthetic_failure(
        "datalake-events-dev", TOPIC, event_id, datetime(2026, 12, 7, tzinfo=UTC)
    )
    record = expected_record(json.loads(json.dumps(event)))
    # Then it is a Glue job failure of the test job, alerted at severity error, under that id,
    # in the topic's account and region, saying it is a test
    assert (record.service, record.state, record.severity) == (
        Service.GLUE_JOB,
        "FAILED",
        Severity.ERROR,
    )
    assert record.resource == "datalake-events-dev-test-alert"
    assert record.event_id == event_id
    assert (record.account, record.region) == ("111122223333", "eu-west-1")
    assert record.error_message is not None
    assert "nothing failed" in record.error_message


@pytest.mark.parametrize(
    ("stored", "state", "code"),
    [
        (True, COMPLETED, 0),
        (True, None, EXIT_NOT_POSTED),
        (True, "INPROGRESS", EXIT_NOT_POSTED),
        (False, None, EXIT_NOT_STORED),
        (False, COMPLETED, EXIT_NOT_STORED),
    ],
)
def test_the_exit_code_says_how_far_the_alert_got(
    stored: bool, state: str | None, code: int
) -> None:
    # Given what the polls found
    result = ProbeResult("e-1", "monitoring-events/dt=2026-12-07/e-1.json", stored, state)
    # When the tool ends
    # Then its exit code says it
    assert result.exit_code == code


def test_the_report_names_where_the_record_is_and_why_nothing_was_posted() -> None:
    # Given a stored record with no alert record
    result = ProbeResult("e-1", "monitoring-events/dt=2026-12-07/e-1.json", True, None)
    # When it is described
    text = describe(result, "monitoring-bucket")
    # Then it gives the record's S3 URI and the likely causes
    assert "s3://monitoring-bucket/monitoring-events/dt=2026-12-07/e-1.json" in text
    assert "posted: no (no alert record: webhook not filled in" in text
