"""The events the state machines put on EventBridge stay within EventBridge's limits, and one
EventBridge rejects fails the execution.

Each definition runs as deployed (template.yaml's substitutions applied: engines/asl_definitions)
on moto's Step Functions interpreter, the local runtime's engine. The tasks in front of the
announcement are stood in by Pass states returning the largest outputs their services allow:
the plan comes from the real planner (``batch_planner.service``), at its limits. The events go to an
EventBridge that refuses what AWS refuses (tests/unit/eventbridge_limits.py, written from AWS's
documentation, apart from the code under test).

moto writes JSON with spaces and with non-ASCII characters escaped (``\\ud835\\udcb3``: 12 bytes
for a 4-byte character), where Step Functions' payload quota and the planner's limit count
compact UTF-8. The engine fixture makes moto's size check and the PutEvents detail count the
same way: else a plan the planner accepts would not fit moto, and a non-ASCII execution name
would weigh three times what it weighs in AWS.
"""

import copy
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import boto3
import pytest
from moto import mock_aws
from moto.events.exceptions import ValidationException
from moto.events.models import EventsBackend
from moto.stepfunctions.parser import quotas
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_events,
)

from batch_planner.service import MAX_BATCHES, BatchPlanner, PlanOutput, PlanTooLargeError
from datalake_shared.pipeline_config import BatchConfig, TableConfig
from datalake_shared.schedule_expressions import NO_SCHEDULE
from local_runtime.intrinsics import ACCOUNT_ID
from tests.integration.engines.asl_definitions import REGION, state_machine_definitions
from tests.unit.eventbridge_limits import LIMIT_BYTES, aws_entry_size, put_events_violation

ROLE_ARN: Final = f"arn:aws:iam::{ACCOUNT_ID}:role/state-machine"
LONGEST_CADENCE: Final = "c" * 40  # CADENCE_PATTERN: at most 40 characters
EXECUTION_NAME_CHARACTERS: Final = 80  # Step Functions (and the planner's run_id) maximum
HEAVY: Final = "\U0001d4b3"  # a 4-byte UTF-8 character (letter: allowed in execution names)
# What Glue and Step Functions document as their longest: JobRunId 255 characters, ExecutionTime
# an int32, an error name 256 characters, a cause 32,768.
GLUE_OUTPUT_MAXIMA: Final = {"$.Id": "j" * 255, "$.ExecutionTime": 2**31 - 1}
LONGEST_ERROR: Final = "Glue." + "E" * 251
LONGEST_CAUSE_CHARACTERS: Final = 32_768


def definition_of(file_name: str) -> dict[str, Any]:
    [machine] = [m for m in state_machine_definitions() if m.file.name == file_name]
    return copy.deepcopy(machine.definition)


def aws_json(value: Any, separators: tuple[str, str] | None = None) -> str:
    """JSON as Step Functions counts it: compact, UTF-8 (what the planner measures too).
    ``separators`` is moto's ``to_json_str`` parameter, which this stands in for: ignored."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class _NoSleep:
    """Stands in for the ``time`` module in moto's retrier: backoffs are recorded, not slept."""

    def __init__(self, waits: list[float]) -> None:
        self.waits = waits

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@dataclass
class Engine:
    """moto's Step Functions with an EventBridge that records what it accepts, refuses what
    AWS refuses, and (``reject_with``) answers each entry with that error code instead."""

    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reject_with: str | None = None
    retry_waits: list[float] = field(default_factory=list)
    """The backoffs of Retry policies, recorded instead of slept."""

    def put_events(
        self, original: Any, backend: EventsBackend, events: list[dict[str, Any]]
    ) -> Any:
        violation = put_events_violation(events)
        if violation is not None:
            self.refused.append(violation)
            raise ValidationException(violation)
        if self.reject_with is not None:
            return [{"ErrorCode": self.reject_with, "ErrorMessage": "(test)"} for _ in events]
        self.accepted.extend(copy.deepcopy(events))
        return original(backend, events)

    def run(
        self, definition: dict[str, Any], execution_input: dict[str, Any], name: str
    ) -> dict[str, Any]:
        client = boto3.client("stepfunctions", region_name=REGION)
        machine = client.create_state_machine(
            name=f"machine-{len(client.list_state_machines()['stateMachines'])}",
            definition=json.dumps(definition),
            roleArn=ROLE_ARN,
        )["stateMachineArn"]
        arn = client.start_execution(
            stateMachineArn=machine, name=name, input=aws_json(execution_input)
        )["executionArn"]
        deadline = time.monotonic() + 300
        while (execution := client.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not finish"
            time.sleep(0.05)
        return dict(execution)

    def details(self, detail_type: str) -> list[dict[str, Any]]:
        return [json.loads(e["Detail"]) for e in self.accepted if e["DetailType"] == detail_type]


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    engine = Engine()
    original = EventsBackend.put_events

    def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> Any:
        return engine.put_events(original, backend, events)

    monkeypatch.setattr(EventsBackend, "put_events", put_events)
    monkeypatch.setattr(quotas, "to_json_str", aws_json)
    monkeypatch.setattr(state_task_service_events, "to_json_str", aws_json)
    monkeypatch.setattr(retrier_decl, "time", _NoSleep(engine.retry_waits))
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield engine


# ------------------------------------------------------------------------------ batch dispatch


class _Configs:
    def __init__(self, tables: Sequence[TableConfig]) -> None:
        self.tables = list(tables)

    def load_batch_config(self, cadence: str) -> BatchConfig:
        # One table per batch: the most batches, each as small as a batch can be in the plan.
        return BatchConfig(
            cadence=cadence, batch_size=1, max_parallel_batches=50, schedule=NO_SCHEDULE
        )

    def load_table_configs(self, cadence: str) -> Sequence[TableConfig]:
        return self.tables


class _Pending:
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def pending_tables(self) -> set[str]:
        return self.names


def table(cadence: str, source_table: str) -> TableConfig:
    return TableConfig.model_validate(
        {
            "cadence": cadence,
            "source_table": source_table,
            "target_database": "lake",
            "target_table": "t",
            "columns": [{"name": "id", "type": "bigint"}],
            "primary_key": ["id"],
            "sequence_column": "seq",
        }
    )


def planner(cadence: str, tables: int) -> BatchPlanner:
    """The planner over ``tables`` pending tables of the cadence, one per batch."""
    names = [f"s.{n}" for n in range(tables)]
    return BatchPlanner(
        _Configs([table(cadence, name) for name in names]),
        _Pending(set(names)),
        glue_job_name="datalake-events-CdcMergeJob-0123456789AB",
    )


def largest_plan() -> tuple[str, PlanOutput]:
    """(run id, plan): the planner's most batches (MAX_BATCHES), its longest cadence, and the
    heaviest 80-character run id (the execution name) it still accepts: as many 4-byte
    characters as the plan's byte limit leaves room for. Batch ids repeat the cadence and the
    run id, so this is the plan whose per-batch results weigh the most."""
    largest = planner(LONGEST_CADENCE, MAX_BATCHES)
    for heavy in range(EXECUTION_NAME_CHARACTERS, -1, -1):
        run_id = HEAVY * heavy + "r" * (EXECUTION_NAME_CHARACTERS - heavy)
        try:
            return run_id, largest.plan_output(LONGEST_CADENCE, run_id)
        except PlanTooLargeError:
            continue
    raise AssertionError("the planner accepts no plan of MAX_BATCHES batches")


def batch_dispatch(batch_outcome: str) -> dict[str, Any]:
    """The definition with the planner Lambda reading the plan from the execution input and
    each Glue run ending as ``batch_outcome`` with the largest output Glue documents."""
    definition = definition_of("batch_dispatch.asl.json")
    states = definition["States"]
    states["PlanBatches"] = {
        "Type": "Pass",
        "InputPath": "$.plan",
        "Next": states["PlanBatches"]["Next"],
    }
    item_states = states["RunBatches"]["ItemProcessor"]["States"]
    merge = item_states["MergeBatch"]
    if batch_outcome == "SUCCEEDED":
        result = {
            name.removesuffix(".$"): GLUE_OUTPUT_MAXIMA[path]
            for name, path in merge["ResultSelector"].items()
        }
        stand_in = {"ResultPath": merge["ResultPath"], "Next": merge["Next"], "Result": result}
    else:
        [catch] = merge["Catch"]
        failure = {"Error": LONGEST_ERROR, "Cause": "c" * LONGEST_CAUSE_CHARACTERS}
        stand_in = {"ResultPath": catch["ResultPath"], "Next": catch["Next"], "Result": failure}
    item_states["MergeBatch"] = {"Type": "Pass", **stand_in}
    return definition


@pytest.mark.parametrize(
    ("batch_outcome", "status", "error"),
    [("SUCCEEDED", "SUCCEEDED", None), ("FAILED", "FAILED", "BatchesFailed")],
)
def test_the_largest_plan_s_run_summary_fits_one_entry(
    engine: Engine, batch_outcome: str, status: str, error: str | None
) -> None:
    # Given the largest plan the planner accepts (500 batches, a 40-character cadence, an
    # 80-character execution name as heavy as fits) and every Glue run ending as batch_outcome
    run_id, plan = largest_plan()
    assert plan["batch_count"] == MAX_BATCHES
    # When the state machine runs it
    execution = engine.run(
        batch_dispatch(batch_outcome), {"cadence": LONGEST_CADENCE, "plan": plan}, run_id
    )
    # Then the run ends as its batches say, not on the announcement
    assert (execution["status"], execution.get("error")) == (status, error), execution
    # ...and its summary was put in one entry within EventBridge's limit
    assert engine.refused == []
    [entry] = [e for e in engine.accepted if e["DetailType"] == "Batch Run Finished"]
    assert aws_entry_size(entry) < LIMIT_BYTES
    # ...with every batch's status, in plan order, under the plan's batch ids
    [detail] = engine.details("Batch Run Finished")
    assert (detail["cadence"], detail["run_id"], detail["batch_count"]) == (
        LONGEST_CADENCE,
        run_id,
        MAX_BATCHES,
    )
    assert detail["any_batch_failed"] is (batch_outcome == "FAILED")
    assert [r["status"] for r in detail["results"]] == [batch_outcome] * MAX_BATCHES
    assert [r["batch_id"] for r in detail["results"]] == [b["batch_id"] for b in plan["batches"]]


def test_an_entry_eventbridge_rejects_fails_the_run(engine: Engine) -> None:
    # Given EventBridge answering the run's summary with an error code (FailedEntryCount 1)
    engine.reject_with = "InternalFailure"
    plan = planner("hourly", 2).plan_output("hourly", "small-run")
    # When a run whose batches all succeed finishes
    execution = engine.run(
        batch_dispatch("SUCCEEDED"), {"cadence": "hourly", "plan": plan}, "small-run"
    )
    # Then the announcement is retried (3 attempts more), then the execution fails on it with
    # Step Functions' EventBridge.FailedEntry, which the failed-executions alarm sees
    assert len(engine.retry_waits) == 3
    assert (execution["status"], execution.get("error")) == ("FAILED", "EventBridge.FailedEntry")


# ------------------------------------------------------------------------------ SPICE ingestion


def spice_ingestion(target: dict[str, Any], cause: str) -> dict[str, Any]:
    """The definition with the dataset lookup answering ``target`` and CreateIngestion failing
    with ``cause`` (caught into CouldNotStart, as its Catch does)."""
    definition = definition_of("spice_ingestion.asl.json")
    states = definition["States"]
    states["ResolveDataset"] = {
        "Type": "Pass",
        "Result": target,
        "Next": states["ResolveDataset"]["Next"],
    }
    [catch] = [c for c in states["CreateIngestion"]["Catch"] if c["ErrorEquals"] == ["States.ALL"]]
    states["CreateIngestion"] = {
        "Type": "Pass",
        "Result": {"Error": "QuickSight.InvalidParameterValueException", "Cause": cause},
        "ResultPath": catch["ResultPath"],
        "Next": catch["Next"],
    }
    return definition


def test_the_largest_spice_ingestion_failed_event_fits_one_entry(engine: Engine) -> None:
    # Given a 128-character dataset id of 4-byte letters, a 1,024-byte key and a cause of the
    # most characters Step Functions keeps (32,768), all of control characters, which JSON
    # writes as 6 bytes each
    key = "\x01" * 1024
    target = {
        "dataset_id": HEAVY * 128,
        "ingestion_id": "csv-" + "f" * 60,
        "prefix": key,
        "bucket": "b" * 63,
        "key": key,
    }
    cause = "\x01" * LONGEST_CAUSE_CHARACTERS
    topic = definition_of("spice_ingestion.asl.json")["States"]["NotifyFailed"]["Parameters"]
    boto3.client("sns", region_name=REGION).create_topic(Name=topic["TopicArn"].split(":")[-1])
    # When the ingestion cannot start
    execution = engine.run(
        spice_ingestion(target, cause), {"detail": {}}, HEAVY * EXECUTION_NAME_CHARACTERS
    )
    # Then the execution fails as an ingestion failure, not on the announcement
    assert (execution["status"], execution.get("error")) == ("FAILED", "SpiceIngestionFailed")
    # ...and "SPICE Ingestion Failed" was put in one entry within EventBridge's limit, whole
    assert engine.refused == []
    [entry] = [e for e in engine.accepted if e["DetailType"] == "SPICE Ingestion Failed"]
    assert aws_entry_size(entry) < LIMIT_BYTES
    [detail] = engine.details("SPICE Ingestion Failed")
    assert (detail["dataset_id"], detail["key"], detail["status"], detail["reason"]) == (
        target["dataset_id"],
        key,
        "NOT_STARTED",
        cause,
    )
