"""`python -m tools.load_config` keeps the cadence schedules as the config loader does: with
--stack it reads where they go from the loader function's environment."""

import io
from typing import Any

import boto3
import pytest
from config_loader_fakes import BATCH_TABLE, CONFIG_DIR, TABLE_TABLE
from test_cadence_schedules import ENVIRONMENT, GROUP

from tools import load_config

PIPELINE = CONFIG_DIR / "pipeline.yaml"
STACK = "datalake-events-test"
LOADER = "datalake-events-test-ConfigLoaderFunction-ABC"


class FakeLambda:
    """The one call the tool makes: the loader's configuration, with the template's variables."""

    def __init__(self, variables: dict[str, str]) -> None:
        self.variables = variables
        self.asked: list[str] = []

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:
        self.asked.append(FunctionName)
        return {"FunctionName": FunctionName, "Environment": {"Variables": self.variables}}


@pytest.fixture
def clients(dynamodb: Any) -> dict[str, Any]:
    """moto's CloudFormation (a stack naming the tables and the loader), Scheduler, DynamoDB."""
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=(
            "Resources:\n  Placeholder:\n    Type: AWS::SQS::Queue\n"
            f"Outputs:\n  BatchConfigTableName:\n    Value: {BATCH_TABLE}\n"
            f"  TableConfigTableName:\n    Value: {TABLE_TABLE}\n"
            f"  ConfigLoaderFunctionName:\n    Value: {LOADER}\n"
        ),
    )
    scheduler = boto3.client("scheduler")
    scheduler.create_schedule_group(Name=GROUP)
    return {
        "cloudformation": cloudformation,
        "dynamodb": dynamodb,
        "scheduler": scheduler,
        "lambda": FakeLambda(ENVIRONMENT),
    }


def run(argv: list[str], clients: dict[str, Any]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = load_config.main(argv, out=out, err=err, clients=clients)
    return code, out.getvalue(), err.getvalue()


def test_apply_with_a_stack_makes_each_cadences_schedule(clients: dict[str, Any]) -> None:
    # Given the example config and a stack / When applied with --stack
    code, out, err = run([str(PIPELINE), "--stack", STACK], clients)
    # Then each cadence has its schedule in the group the loader's environment names
    assert code == 0, err
    listed = clients["scheduler"].list_schedules(GroupName=GROUP)["Schedules"]
    assert sorted(s["Name"] for s in listed) == ["15min", "daily", "hourly"]
    assert set(clients["lambda"].asked) == {LOADER}
    assert f"Cadence schedules in {GROUP}: created ['15min', 'daily', 'hourly']." in out


def test_applying_again_says_nothing_changed(clients: dict[str, Any]) -> None:
    run([str(PIPELINE), "--stack", STACK], clients)
    code, out, _ = run([str(PIPELINE), "--stack", STACK], clients)
    assert code == 0
    assert f"Cadence schedules in {GROUP}: unchanged 3." in out


def test_explicit_tables_leave_the_schedules_alone_saying_so(clients: dict[str, Any]) -> None:
    # Given the tables named without a stack / When applied
    code, out, _ = run(
        [str(PIPELINE), "--batch-table", BATCH_TABLE, "--table-table", TABLE_TABLE], clients
    )
    # Then no schedule is made, and the output says how to make them
    assert code == 0
    assert clients["scheduler"].list_schedules(GroupName=GROUP)["Schedules"] == []
    assert "Cadence schedules: not changed (give --stack" in out


def test_a_loader_without_the_schedule_settings_is_an_aws_error(clients: dict[str, Any]) -> None:
    # Given a loader function whose environment predates the cadence schedules
    clients["lambda"] = FakeLambda({"BATCH_CONFIG_TABLE": BATCH_TABLE})
    # When applied / Then exit 3 naming what is missing
    code, _, err = run([str(PIPELINE), "--stack", STACK], clients)
    assert code == load_config.EXIT_AWS
    assert "CADENCE_SCHEDULE_GROUP" in err


def test_dry_run_prints_each_cadences_schedule() -> None:
    code, out, _ = run([str(PIPELINE), "--dry-run"], {})
    assert code == 0
    assert "15min    rate(15 minutes)" in out
