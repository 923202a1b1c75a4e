from collections.abc import Iterator
from typing import Any

import pytest
from alert_fakes import AlertAws, alert_aws
from redshift_audit_fakes import BUCKET

from local_runtime.slack_sink import SlackSink


@pytest.fixture
def aws(sink: SlackSink, sam_template: dict[str, Any]) -> Iterator[AlertAws]:
    """The function's bucket, the idempotency table and the webhook secret (the sink's URL),
    fresh for each test."""
    with alert_aws(BUCKET, sam_template, sink.url) as fresh:
        yield fresh
