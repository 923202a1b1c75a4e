"""Runs a deployed function's handler in this process, the way Lambda would run it.

Each function is imported once per runtime (a cold start) with its own environment: the
variables CloudFormation resolved for it in moto, so table and queue names are the deployed
ones. Project modules are re-imported for every function, so settings that a module caches
belong to that function. Output the handler prints (Powertools logs, EMF metrics) is captured
per invocation instead of flooding the terminal.
"""

import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from local_runtime.template import FunctionSource

Handler = Callable[[Any, Any], Any]

# Set for every local invocation: there is no X-Ray daemon here.
_LOCAL_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}


@dataclass(frozen=True)
class DeployedFunction:
    source: FunctionSource
    name: str
    arn: str
    environment: dict[str, str]
    memory_mb: int = 128
    timeout_s: int = 3


@dataclass
class Invocation:
    """What one invocation did; the demo and tests read these."""

    function: str
    trigger: str
    records: int
    response: Any = None
    error: str | None = None
    logs: str = ""
    duration_ms: float = 0.0
    failed_records: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class LambdaContext:
    """The attributes Powertools and handlers read from the real context object."""

    def __init__(self, function: DeployedFunction) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _RoutedStdout(io.TextIOBase):
    """Stands in for sys.stdout so output can be captured per invocation, even by loggers that
    kept a reference to the stream they were built with. One per process: a logger built
    during an earlier runtime still holds it, and it falls through to the terminal when no
    invocation is running."""

    def __init__(self) -> None:
        self.terminal: Any = sys.stdout
        self.sinks: list[io.StringIO] = []

    def write(self, text: str) -> int:
        target = self.sinks[-1] if self.sinks else self.terminal
        if getattr(target, "closed", False):
            target = sys.__stdout__
        return int(target.write(text))

    def flush(self) -> None:
        # The stream it fell through to may be gone (a test runner's capture, at exit).
        if not self.sinks and not getattr(self.terminal, "closed", False):
            self.terminal.flush()


_ROUTER = _RoutedStdout()


class FunctionRunner:
    """Imports and calls handlers of the functions deployed from the template."""

    def __init__(self) -> None:
        self.functions: dict[str, DeployedFunction] = {}
        self.invocations: list[Invocation] = []
        self._handlers: dict[str, Handler] = {}
        # Each function's own copies of our modules (functions/, layers/), like separate
        # Lambda sandboxes; swapped into sys.modules for the duration of an invocation.
        self._sandboxes: dict[str, dict[str, ModuleType]] = {}
        self._outer_environment: dict[str, str] | None = None
        self._lock = threading.RLock()
        self._stdout: _RoutedStdout | None = None
        self._project_roots: tuple[str, ...] = ()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._stdout = _ROUTER

    def stop(self) -> None:
        self._stdout = None
        self._sandboxes.clear()
        self._handlers.clear()

    def register(self, function: DeployedFunction) -> None:
        self.functions[function.name] = function
        self.functions[function.arn] = function
        self.functions[function.source.logical_id] = function
        # What each sandbox has of its own: the deployed functions' code and layer folders
        # (computed here, not per module per invocation).
        folders = {self._folder(function.source.code_dir)} | {
            self._folder(layer) for layer in function.source.layer_dirs
        }
        self._project_roots = tuple(sorted(set(self._project_roots) | folders))

    def find(self, name_or_arn: str) -> DeployedFunction:
        key = (
            name_or_arn.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0]
            if ":function:" in name_or_arn
            else name_or_arn
        )
        try:
            return self.functions[key]
        except KeyError:
            raise KeyError(f"no function {name_or_arn!r} in the local stack") from None

    # ------------------------------------------------------------------ invocation
    def invoke(self, name_or_arn: str, event: Any, trigger: str = "direct") -> Invocation:
        function = self.find(name_or_arn)
        listed = event.get("Records") if isinstance(event, dict) else None
        records = len(listed) if isinstance(listed, list) else 0
        invocation = Invocation(
            function=function.source.logical_id, trigger=trigger, records=records
        )
        sink = io.StringIO()
        with (
            self._lock,
            self._environment(function),
            self._sandbox(function.source),
            self._captured(sink, function.environment.get("POWERTOOLS_SERVICE_NAME")),
        ):
            started = time.perf_counter()
            try:
                handler = self._handler(function)
                response = handler(json.loads(json.dumps(event)), LambdaContext(function))
                invocation.response = json.loads(json.dumps(response, default=str))
            except Exception as error:
                invocation.error = f"{type(error).__name__}: {error}"
                sink.write(traceback.format_exc())
            invocation.duration_ms = (time.perf_counter() - started) * 1000
        invocation.logs = sink.getvalue()
        if isinstance(invocation.response, dict):
            invocation.failed_records = len(invocation.response.get("batchItemFailures") or [])
        self.invocations.append(invocation)
        return invocation

    def _handler(self, function: DeployedFunction) -> Handler:
        key = function.source.logical_id
        if key not in self._handlers:
            self._handlers[key] = self._import_handler(function.source)
        return self._handlers[key]

    def _import_handler(self, source: FunctionSource) -> Handler:
        """``Handler: <package>.<module>.<attribute>`` imported as Lambda does, from the code
        folder on sys.path (inside the function's sandbox, so its modules are its own)."""
        module_path, _, attribute = source.handler.rpartition(".")
        handler: Handler = getattr(importlib.import_module(module_path), attribute)
        return handler

    def _is_project_module(self, module: ModuleType | None) -> bool:
        file = str(getattr(module, "__file__", None) or "")
        return file.startswith(self._project_roots)

    @staticmethod
    def _folder(path: Path) -> str:
        return str(path) + os.sep

    def _take_project_modules(self) -> dict[str, ModuleType]:
        """Removes our modules from sys.modules and returns them."""
        taken = {
            name: module
            for name, module in list(sys.modules.items())
            if self._is_project_module(module)
        }
        for name in taken:
            del sys.modules[name]
        return taken

    @contextmanager
    def _sandbox(self, source: FunctionSource) -> Iterator[None]:
        """sys.path and our modules as this function's Lambda sandbox would have them."""
        saved_path = list(sys.path)
        outside = self._take_project_modules()
        sys.modules.update(self._sandboxes.get(source.logical_id, {}))
        sys.path[:0] = [str(source.code_dir), *(str(path) for path in source.layer_dirs)]
        try:
            yield
        finally:
            self._sandboxes[source.logical_id] = self._take_project_modules()
            sys.modules.update(outside)
            sys.path[:] = saved_path

    @contextmanager
    def _environment(self, function: DeployedFunction) -> Iterator[None]:
        """The function's own variables over the process's; a nested invocation (a handler
        invoking another function) starts from the process's, not from its caller's."""
        saved = dict(os.environ)
        if self._outer_environment is None:
            self._outer_environment = saved
        base = self._outer_environment
        os.environ.clear()
        os.environ.update(base)
        os.environ.update(function.environment)
        os.environ.update(_LOCAL_ENVIRONMENT)
        os.environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            }
        )
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
            if saved is base:
                self._outer_environment = None

    @contextmanager
    def _captured(self, sink: io.StringIO, service: str | None) -> Iterator[None]:
        """Everything the invocation prints goes to ``sink``. sys.stdout is swapped for the
        duration only (test runners swap it too); the function's Powertools logger may have
        been built earlier against another stream, so its handlers are pointed here as well."""
        router = self._stdout
        if router is None:
            yield
            return
        saved_stdout = sys.stdout
        if saved_stdout is not router:
            router.terminal = saved_stdout
        sys.stdout = router
        retargeted: list[tuple[logging.StreamHandler[Any], Any]] = []
        if service:
            for handler in logging.getLogger(service).handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is not router:
                    retargeted.append((handler, handler.setStream(router)))
        router.sinks.append(sink)
        try:
            yield
        finally:
            router.sinks.pop()
            for handler, stream in retargeted:
                handler.setStream(stream)
            sys.stdout = saved_stdout
