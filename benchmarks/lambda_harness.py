"""What benchmarks of a Lambda handler share: its module and quiet telemetry (the Lambda
context is the tests' FakeLambdaContext)."""

import contextlib
import importlib
import os
from collections.abc import Iterator
from types import ModuleType


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
