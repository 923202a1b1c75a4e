"""Every event shape the SAM CLI generates, given to every function of the template: each is
processed, or rejected with a logged, counted error naming the shape expected — never a crash
(KeyError, TypeError, a bare ValidationError)."""

from collections.abc import Iterator
from typing import Any, Final

import pytest
from generated_events import generated_events
from template_support import ROOT, resources

from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from local_runtime.template import load_sam_template

# The errors a function raises on purpose for an event that is not its own: subclasses of
# datalake_shared.event_shapes.EventShapeError (the runtime reports the class name).
REJECTIONS: Final = ("EventShapeError: expected ", "InvalidPayloadError: expected ")
REJECTION_LOG: Final = "Event of an unexpected shape rejected"
UNEXPECTED_METRIC: Final = '"UnexpectedEvents"'

FUNCTIONS: Final = sorted(
    resources(load_sam_template(ROOT / "template.yaml"), "AWS::Serverless::Function")
)
SHAPES: Final = generated_events()
EVERY_SHAPE: Final = frozenset(SHAPES)
# The generated shapes each function takes (the others it must reject): its own envelope, or
# any event at all for the two functions that keep whatever they are given — the Excel cleaner
# reports each record it cannot read, the pipeline monitor stores any event as "unknown".
TAKEN: Final = {
    "BatchPlannerFunction": frozenset(),
    "CatalogTypeFixerFunction": frozenset({"sqs/receive-message"}),
    "ConfigLoaderFunction": frozenset(),
    "ExcelCleanerFunction": EVERY_SHAPE,
    "FileTrackerFunction": frozenset({"sqs/receive-message"}),
    "IcebergCdcFunction": frozenset({"dynamodb/update"}),
    # Due tasks from its queue, and the TTL fallback from the task table's stream.
    "ObjectRewriterFunction": frozenset({"sqs/receive-message", "dynamodb/update"}),
    "ObjectTaskSchedulerFunction": frozenset({"sqs/receive-message"}),
    "PipelineMetricsFunction": frozenset({"sqs/receive-message"}),
    "PipelineMonitorFunction": EVERY_SHAPE,
    "RedshiftAuditFunction": frozenset({"cloudwatch/logs"}),
    "SpiceTargetFunction": frozenset(),
}


@pytest.fixture(scope="module")
def shared_runtime() -> Iterator[LocalRuntime]:
    """One deployment for the module: the 600-odd invocations only read the stack."""
    with project_runtime() as local:
        yield local


def test_every_function_of_the_template_says_which_shapes_it_takes() -> None:
    assert sorted(TAKEN) == FUNCTIONS


def test_the_sam_cli_generates_the_shapes_of_every_event_source_the_template_uses() -> None:
    # Given the generated corpus; Then it holds the envelopes this stack's functions receive.
    for shape in ("sqs/receive-message", "dynamodb/update", "sns/notification", "cloudwatch/logs"):
        assert shape in SHAPES


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_generated_event_is_processed_or_rejected_naming_the_expected_shape(
    shared_runtime: LocalRuntime, function: str, shape: str
) -> None:
    # Given an AWS-generated event, whatever its service
    event: Any = SHAPES[shape]

    # When the function is invoked with it
    invocation = shared_runtime.invoke(function, event)

    # Then it handles its own shapes, and rejects the others on purpose, logged and counted
    assert invocation.ok == (shape in TAKEN[function]), invocation.error
    if not invocation.ok:
        assert invocation.error is not None
        assert invocation.error.startswith(REJECTIONS), invocation.error
        assert REJECTION_LOG in invocation.logs
        assert UNEXPECTED_METRIC in invocation.logs
