"""Every sample event in events/, damaged (fields dropped, retyped, enlarged, filled with
awkward Unicode, at any depth, inside SQS bodies and SNS messages too), given to its function
on the local runtime: it is handled, or fails with one of the errors the function raises on
purpose — never a crash."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from event_mutations import damaged
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lambda_support import load_sample_event, sample_event_names
from template_support import ROOT, resources

from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from local_runtime.template import load_sam_template

TEMPLATE: Final = load_sam_template(ROOT / "template.yaml")
# events/<folder>/ belongs to the function whose CodeUri is functions/<folder>/.
FUNCTION_OF_FOLDER: Final = {
    Path(resource["Properties"]["CodeUri"]).name: logical_id
    for logical_id, resource in resources(TEMPLATE, "AWS::Serverless::Function").items()
}
SAMPLES: Final = [
    (folder, name) for folder in sorted(FUNCTION_OF_FOLDER) for name in sample_event_names(folder)
]
# What a function raises on purpose, each with a message that says what is wrong.
DELIBERATE_ERRORS: Final = re.compile(
    "|".join(
        (
            "EventShapeError: ",  # an envelope of another shape (datalake_shared.event_shapes)
            "InvalidPayloadError: ",  # the same, for the Redshift audit's CloudWatch Logs payload
            "MalformedBatchError: ",  # a stream record with no sequence number to report it by
            "UnknownCadenceError: ",  # a cadence no batch config names: the dispatch run fails
            # Stored, but its announcement is over EventBridge's size: retried, then kept by the
            # DLQ. An event that could not be stored is not in this list.
            r"MonitorFailedError: 0 event\(s\) not stored ",
            # The samples name buckets this runtime does not have: S3 says so, and Lambda retries
            # the config loader's invocation, then its on-failure destination keeps the event.
            "NoSuchBucket: ",
        )
    )
)


@pytest.fixture(scope="module")
def shared_runtime() -> Iterator[LocalRuntime]:
    with project_runtime() as local:
        yield local


@pytest.mark.parametrize(("folder", "name"), SAMPLES)
@settings(
    max_examples=15,
    derandomize=True,  # the same damage on every run: a failure here is a finding, never a flake
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_damaged_sample_event_is_handled_or_refused_on_purpose(
    shared_runtime: LocalRuntime, folder: str, name: str, data: st.DataObject
) -> None:
    # Given a sample event with one to three places damaged
    event: Any = data.draw(damaged(load_sample_event(folder, name)), label="event")

    # When its function is invoked with it
    invocation = shared_runtime.invoke(FUNCTION_OF_FOLDER[folder], event)

    # Then it returns, or refuses the event with an error it raises on purpose
    assert invocation.error is None or DELIBERATE_ERRORS.match(invocation.error), invocation.error
