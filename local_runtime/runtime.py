"""LocalRuntime: template.yaml deployed into moto, with our handlers running in-process.

with LocalRuntime() as runtime:
    runtime.s3.put_object(Bucket=runtime.outputs["StagingBucketName"], Key=..., Body=...)
    runtime.settle()            # run the event graph until nothing is left to do
    runtime.invocations         # what ran, with which records, and what it returned

DynamoDB (tables and streams) can be served by AWS's DynamoDB Local instead of moto:
``LocalRuntime(dynamodb="dynamodb-local")`` or ``LOCAL_DYNAMODB=dynamodb-local`` in the
environment (read when the runtime is created); see bridges/dynamodb_backend.py.

The runtime runs no job code of its own: a Glue job of the template runs locally when the caller
gives its counterpart, ``LocalRuntime(glue_jobs={<ScriptLocation>: <LocalGlueJob>})`` (see
bridges/glue.py); a run of any other job fails saying so.
"""

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from local_runtime.activity import ActivityLog
from local_runtime.bridges import Bridge, RuntimeServices
from local_runtime.bridges.athena import AthenaBridge
from local_runtime.bridges.cloudwatch_logs import CloudWatchLogsBridge
from local_runtime.bridges.dynamodb_backend import DynamoDbBackend, dynamodb_backend
from local_runtime.bridges.dynamodb_streams import DynamoDbStreamsBridge
from local_runtime.bridges.eventbridge import EventBridgeBridge
from local_runtime.bridges.glue import GlueBridge, LocalGlueJob
from local_runtime.bridges.glue_catalog import GlueCatalogEventsBridge
from local_runtime.bridges.lambda_service import LambdaBridge
from local_runtime.bridges.quicksight import QuickSightBridge
from local_runtime.bridges.scheduler import SchedulerBridge
from local_runtime.bridges.slack import SlackBridge
from local_runtime.bridges.sns import SnsBridge, route_to_sns
from local_runtime.bridges.sqs import SqsEventSourceBridge
from local_runtime.bridges.stepfunctions import StepFunctionsBridge
from local_runtime.deploy import DeployedStack, deploy
from local_runtime.emulated import EmulatedResources, build_emulated, resolver_for
from local_runtime.functions import DeployedFunction, FunctionRunner, Invocation
from local_runtime.lifecycle import Service
from local_runtime.moto_adapter.services import moto_aws
from local_runtime.template import TranslatedTemplate, load_sam_template, translate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

DEFAULT_TEMPLATE = Path("template.yaml")  # in the current directory, as for `sam`
DEFAULT_STACK_NAME = "local-stack"
LOCAL_REGION = "us-east-1"
# Fake credentials: moto accepts anything, and nothing may ever reach a real account.
_LOCAL_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
}
# Shared config/credential files and endpoint overrides could send calls past moto.
_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")
_ACTIVE = threading.Lock()


def _isolate_from_real_aws() -> None:
    for name in list(os.environ):
        if name in _REAL_AWS_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(_LOCAL_AWS_ENVIRONMENT)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


class NotSettledError(RuntimeError):
    """The event graph kept producing work: most likely a loop between functions."""


class LocalRuntime(Service):
    def __init__(
        self,
        template_path: Path = DEFAULT_TEMPLATE,
        parameters: dict[str, str] | None = None,
        stack_name: str = DEFAULT_STACK_NAME,
        workdir: Path | None = None,
        dynamodb: str | DynamoDbBackend | None = None,
        *,
        glue_jobs: Mapping[str, LocalGlueJob] | None = None,
    ) -> None:
        """``workdir`` keeps local state (the lake of Glue runs); a temporary folder, removed on
        stop, unless given. ``dynamodb`` names the engine serving DynamoDB, "moto" or
        "dynamodb-local" (default: LOCAL_DYNAMODB, else moto), or is a backend adapter;
        ``glue_jobs`` runs the template's Glue jobs locally, by ScriptLocation (a job with a
        ``close()`` is closed when the runtime stops)."""
        self.template_path = template_path.absolute()
        self.dynamodb_backend: DynamoDbBackend = (
            dynamodb
            if dynamodb is not None and not isinstance(dynamodb, str)
            else dynamodb_backend(dynamodb)
        )
        self.parameters = dict(parameters or {})
        self.stack_name = stack_name
        self._given_workdir = workdir
        self.workdir = workdir or Path()
        self._temporary_workdir: tempfile.TemporaryDirectory[str] | None = None
        self.activity = ActivityLog()
        self.runner = FunctionRunner()
        self.lambda_bridge = LambdaBridge()
        self.eventbridge_bridge = EventBridgeBridge()
        self.sqs_bridge = SqsEventSourceBridge()
        self.stepfunctions_bridge = StepFunctionsBridge()
        self.scheduler_bridge = SchedulerBridge(self.stepfunctions_bridge)
        self.glue_bridge = GlueBridge(dict(glue_jobs or {}))
        self.glue_catalog_bridge = GlueCatalogEventsBridge()
        self.streams_bridge = DynamoDbStreamsBridge(self.dynamodb_backend)
        self.sns_bridge = SnsBridge()
        self.logs_bridge = CloudWatchLogsBridge()
        self.quicksight_bridge = QuickSightBridge()
        self.athena_bridge = AthenaBridge()
        self.slack_bridge = SlackBridge()
        self.eventbridge_bridge.add_route("states", self.stepfunctions_bridge.route)
        self.eventbridge_bridge.add_route("sns", route_to_sns)
        # Order matters only for readability of the activity log: sources before consumers.
        self.bridges: list[Bridge] = [
            self.eventbridge_bridge,
            self.scheduler_bridge,
            self.sqs_bridge,
            self.streams_bridge,
            self.sns_bridge,
            self.logs_bridge,
            self.lambda_bridge,
            self.stepfunctions_bridge,
            self.glue_bridge,
            self.glue_catalog_bridge,
            self.quicksight_bridge,
            self.athena_bridge,
            self.slack_bridge,
        ]
        self._mock: Any = None
        self._saved_environment: dict[str, str] | None = None
        self._template: TranslatedTemplate | None = None
        self._stack: DeployedStack | None = None
        self._session: boto3.session.Session | None = None
        self._installed: list[Bridge] = []
        self._owns_lock = False
        self._backend_started = False
        self.emulated = EmulatedResources()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if not _ACTIVE.acquire(blocking=False):
            raise RuntimeError("another LocalRuntime is running in this process")
        self._owns_lock = True
        try:
            self._prepare_workdir()
            self._saved_environment = dict(os.environ)
            _isolate_from_real_aws()
            self._mock = moto_aws()
            self._mock.start()
            self._session = boto3.session.Session(region_name=LOCAL_REGION)
            self._backend_started = True
            self.dynamodb_backend.start(self._session)
            declared = load_sam_template(self.template_path).get("Parameters", {})
            if "Stage" in declared:  # metrics and tags say where they come from
                self.parameters = {"Stage": "local", **self.parameters}
            self._template = translate(self.template_path, self.parameters)
            self._stack = deploy(self._template, self.stack_name, self.parameters, self._session)
            self.emulated = build_emulated(
                self._template, self._stack, self.parameters, self._session
            )
            self.dynamodb_backend.create_tables(
                self._template,
                self._stack,
                resolver_for(self._template, self._stack, self.parameters, LOCAL_REGION),
            )
            self._register_functions()
            self.runner.start()
            services = RuntimeServices(
                session=self._session,
                runner=self.runner,
                activity=self.activity,
                stack=self._stack,
                template=self._template,
                async_invoker=self.lambda_bridge,
                workdir=self.workdir,
            )
            for bridge in self.bridges:
                # Listed before install: a bridge that fails half-way still gets uninstalled.
                self._installed.append(bridge)
                bridge.install(services)
            self.scheduler_bridge.use(self.emulated.schedules)
            self.lambda_bridge.use(self.emulated.invoke_configs)
            self.glue_bridge.use(self.emulated.glue_jobs)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Undo everything start() did, even when one step of the teardown fails."""
        if not self._owns_lock:
            return
        self._let_executions_finish()
        with contextlib.ExitStack() as teardown:
            teardown.callback(self._release)
            teardown.callback(self._remove_workdir)
            teardown.callback(self._restore_environment)
            if self._backend_started:
                teardown.callback(self._stop_backend)
            if self._mock is not None:
                teardown.callback(self._mock.stop)
            teardown.callback(self.runner.stop)
            for bridge in self._installed:  # callbacks run last-in first-out
                teardown.callback(bridge.uninstall)
            self._installed = []

    def _let_executions_finish(self, timeout_s: float = 30.0) -> None:
        """moto runs executions in threads; tearing down under them would break them midway."""
        deadline = time.monotonic() + timeout_s
        with contextlib.suppress(Exception):  # stopping must not fail because of a probe
            while self.stepfunctions_bridge.pump() and time.monotonic() < deadline:
                pass

    def _prepare_workdir(self) -> None:
        if self._given_workdir is None:
            self._temporary_workdir = tempfile.TemporaryDirectory(prefix="local-runtime-")
            self.workdir = Path(self._temporary_workdir.name)
        else:
            self.workdir = self._given_workdir
            self.workdir.mkdir(parents=True, exist_ok=True)

    def _remove_workdir(self) -> None:
        if self._temporary_workdir is not None:
            self._temporary_workdir.cleanup()
            self._temporary_workdir = None

    def _restore_environment(self) -> None:
        if self._saved_environment is not None:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            self._saved_environment = None

    def _stop_backend(self) -> None:
        self._backend_started = False
        self.dynamodb_backend.stop()

    def _release(self) -> None:
        self._mock = None
        self._owns_lock = False
        _ACTIVE.release()

    def _register_functions(self) -> None:
        assert self._template is not None
        assert self._stack is not None
        lambda_client = self.client("lambda")
        for logical_id, source in self._template.functions.items():
            name = self._stack.resources[logical_id]
            config = lambda_client.get_function_configuration(FunctionName=name)
            self.runner.register(
                DeployedFunction(
                    source=source,
                    name=config["FunctionName"],
                    arn=config["FunctionArn"],
                    environment=dict(config.get("Environment", {}).get("Variables", {})),
                    memory_mb=int(config.get("MemorySize", 128)),
                    timeout_s=int(config.get("Timeout", 3)),
                )
            )

    # ------------------------------------------------------------------ running
    def settle(self, max_rounds: int = 1000) -> int:
        """Pump every bridge until a full round does no work; returns the work done."""
        total = 0
        for _ in range(max_rounds):
            done = sum(bridge.pump() for bridge in self._installed)
            if done == 0:
                return total
            total += done
        raise NotSettledError(f"still busy after {max_rounds} rounds ({total} units of work)")

    def fire_schedule(self, schedule: str) -> str:
        """Fires a schedule now: a cadence's, by name (e.g. "hourly", kept by the config loader),
        or the template's, by logical id; returns what it started."""
        return self.scheduler_bridge.fire(schedule)

    def advance_clock(self, delta: timedelta) -> list[str]:
        """Moves the schedules' clock forward by ``delta`` (a compressed clock: 30 days in a
        call) and fires the one-time schedules now due; returns what they started or sent to.
        Only the Scheduler sees this clock: functions keep the real time."""
        self.scheduler_bridge.advance_clock(delta)
        return self.scheduler_bridge.fire_due()

    def invoke(self, function: str, event: Any) -> Invocation:
        """Invoke a function by logical id, name or ARN, as `sam local invoke` would."""
        return self.runner.invoke(function, event, trigger="local invoke")

    # ------------------------------------------------------------------ views
    @property
    def stack(self) -> DeployedStack:
        if self._stack is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._stack

    @property
    def outputs(self) -> dict[str, str]:
        return self.stack.outputs

    @property
    def invocations(self) -> list[Invocation]:
        return self.runner.invocations

    def client(self, service: Any) -> Any:
        if self._session is None:
            raise RuntimeError("LocalRuntime is not started")
        return self._session.client(service)

    @property
    def s3(self) -> "S3Client":
        client: S3Client = self.client("s3")
        return client

    @property
    def sqs(self) -> "SQSClient":
        client: SQSClient = self.client("sqs")
        return client

    @property
    def dynamodb(self) -> "DynamoDBClient":
        client: DynamoDBClient = self.client("dynamodb")
        return client
