"""The moto methods bridges replace while they are installed, named once, and ``Patches``.

A bridge takes a method over (``patches.replace(GLUE_START_JOB_RUN, ours)``, which returns the
original to call on), and ``patches.restore()`` on uninstall puts back exactly what was there.
"""

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from moto.athena.models import AthenaBackend
from moto.athena.responses import AthenaResponse
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.events.models import EventsBackend, Rule
from moto.glue.models import FakeJob, FakeJobRun, GlueBackend
from moto.quicksight import urls as quicksight_urls
from moto.quicksight.responses import QuickSightResponse
from moto.sns.models import Subscription


@dataclass(frozen=True)
class Hook:
    """An attribute of a moto class or module that a bridge replaces."""

    owner: Any
    name: str

    def current(self) -> Any:
        """What the attribute holds now (the original, before a bridge replaces it); None when
        moto has no such attribute (e.g. DescribeIngestion, which moto does not implement)."""
        return getattr(self.owner, self.name, None)


# Glue Data Catalog: table writes, which on AWS put "Glue Data Catalog Database/Table State
# Change" events.
GLUE_CREATE_TABLE: Final = Hook(GlueBackend, "create_table")
GLUE_UPDATE_TABLE: Final = Hook(GlueBackend, "update_table")
GLUE_DELETE_TABLE: Final = Hook(GlueBackend, "delete_table")
# Glue: StartJobRun records a run (and enforces MaxConcurrentRuns); GetJobRun describes it.
GLUE_START_JOB_RUN: Final = Hook(FakeJob, "start_job_run")
GLUE_JOB_RUN_AS_DICT: Final = Hook(FakeJobRun, "as_dict")
# SNS: every delivery to one subscription goes through here.
SNS_SUBSCRIPTION_PUBLISH: Final = Hook(Subscription, "publish")
# EventBridge: a matching rule's delivery, and every PutEvents.
EVENTS_SEND_TO_TARGETS: Final = Hook(Rule, "send_to_targets")
EVENTS_PUT_EVENTS: Final = Hook(EventsBackend, "put_events")
# EventBridge: CloudFormation creating a rule (moto JSON-encodes its EventPattern, whatever it is).
EVENTS_RULE_FROM_CLOUDFORMATION: Final = Hook(Rule, "create_from_cloudformation_json")
# Lambda (the simple backend, no Docker): Invoke.
LAMBDA_INVOKE: Final = Hook(LambdaSimpleBackend, "invoke")
# moto's own DynamoDB stream delivery (on every write to a table with a mapping): the streams
# bridge polls instead, also for mappings created through the Lambda API after the deploy.
LAMBDA_SEND_DYNAMODB_ITEMS: Final = Hook(LambdaSimpleBackend, "send_dynamodb_items")
# Lambda: a CloudWatch Logs subscription's delivery (moto would invoke the function in Docker).
LAMBDA_SEND_LOG_EVENT: Final = Hook(LambdaSimpleBackend, "send_log_event")
# Athena: the query lifecycle, and the GetQueryExecution response body.
ATHENA_START_QUERY: Final = Hook(AthenaBackend, "start_query_execution")
ATHENA_GET_QUERY: Final = Hook(AthenaBackend, "get_query_execution")
ATHENA_GET_RESULTS: Final = Hook(AthenaBackend, "get_query_results")
ATHENA_STOP_QUERY: Final = Hook(AthenaBackend, "stop_query_execution")
ATHENA_DESCRIBE_RESPONSE: Final = Hook(AthenaResponse, "get_query_execution")
# QuickSight: the ingestion API, answered in moto's responses (moto has no DescribeIngestion).
QUICKSIGHT_CREATE_INGESTION: Final = Hook(QuickSightResponse, "create_ingestion")
QUICKSIGHT_DESCRIBE_INGESTION: Final = Hook(QuickSightResponse, "describe_ingestion")
QUICKSIGHT_CANCEL_INGESTION: Final = Hook(QuickSightResponse, "cancel_ingestion")
# QuickSight datasets: moto answers CreateDataSet only, and routes no other dataset URL; the
# routes (moto's table of URL patterns) and the handlers are added while the bridge is installed.
QUICKSIGHT_URL_PATHS: Final[MutableMapping[str, Any]] = quicksight_urls.url_paths
QUICKSIGHT_DISPATCH: Final = QuickSightResponse.dispatch
QUICKSIGHT_CREATE_DATA_SET: Final = Hook(QuickSightResponse, "create_data_set")
QUICKSIGHT_DESCRIBE_DATA_SET: Final = Hook(QuickSightResponse, "describe_data_set")
QUICKSIGHT_UPDATE_DATA_SET: Final = Hook(QuickSightResponse, "update_data_set")
QUICKSIGHT_DELETE_DATA_SET: Final = Hook(QuickSightResponse, "delete_data_set")
QUICKSIGHT_DESCRIBE_DATA_SET_PERMISSIONS: Final = Hook(
    QuickSightResponse, "describe_data_set_permissions"
)
QUICKSIGHT_UPDATE_DATA_SET_PERMISSIONS: Final = Hook(
    QuickSightResponse, "update_data_set_permissions"
)

_MISSING: Final = object()


class Patches:
    """What one bridge replaced in moto, to put back (last first) when it is uninstalled."""

    def __init__(self) -> None:
        # (owner, name, what the owner itself held: _MISSING when it inherited the attribute)
        self._attributes: list[tuple[Any, str, Any]] = []
        self._items: list[tuple[MutableMapping[str, Any], str, Any]] = []

    def replace(self, hook: Hook, value: Any) -> Any:
        """Puts ``value`` in place of the hooked attribute; returns the original."""
        original = hook.current()
        self._attributes.append((hook.owner, hook.name, vars(hook.owner).get(hook.name, _MISSING)))
        setattr(hook.owner, hook.name, value)
        return original

    def set_item(self, mapping: MutableMapping[str, Any], key: str, value: Any) -> None:
        """Sets ``mapping[key]`` (a table of moto's) until restored."""
        self._items.append((mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def restore(self) -> None:
        for mapping, key, item in reversed(self._items):
            if item is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = item
        self._items.clear()
        for owner, name, original in reversed(self._attributes):
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._attributes.clear()
