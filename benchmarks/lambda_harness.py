"""What benchmarks of a Lambda handler share: its module and quiet telemetry (the Lambda
context is the tests' FakeLambdaContext)."""

import contextlib
import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType

from benchmarks.results import median_seconds


@contextlib.contextmanager
def quiet_telemetry() -> Iterator[None]:
    """Send Powertools logs and EMF metrics to /dev/null (still formatted, as in Lambda)."""
    from datalake_shared.observability import logger  # noqa: PLC0415

    handler = logger.registered_handler
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        previous = handler.setStream(devnull)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]


def handler_module(function: str) -> ModuleType:
    """functions/<function>/<function>/handler.py (run.py puts each function folder on the path)."""
    return importlib.import_module(f"{function}.handler")


@dataclass(frozen=True, slots=True)
class HeadToHead[T]:
    ours: T
    """What one run of ours returned (e.g. the calls it made)."""
    naive: T
    ours_s: float
    """Median seconds of a run."""
    naive_s: float


def head_to_head[T](ours: Callable[[], T], naive: Callable[[], T]) -> HeadToHead[T]:
    """Each run once, which also warms it up (lazily built state, first imports), then timed,
    with telemetry formatted as in Lambda but thrown away."""
    with quiet_telemetry():
        our_result, naive_result = ours(), naive()
        return HeadToHead(our_result, naive_result, median_seconds(ours), median_seconds(naive))
