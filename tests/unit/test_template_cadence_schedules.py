"""The cadence schedules on template.yaml: the config loader keeps them (one per configured
cadence) in the stack's own schedule group, with just the rights that needs."""

from typing import Any

from datalake_shared.cadence_schedules import CadenceScheduleSettings
from tests.unit.template_support import Template, refs, resources

GROUP = "CadenceScheduleGroup"
ROLE = "CadenceScheduleRole"


def loader(sam_template: Template) -> dict[str, Any]:
    function: dict[str, Any] = sam_template["Resources"]["ConfigLoaderFunction"]
    return function


def loader_statements(sam_template: Template) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for policy in loader(sam_template)["Properties"]["Policies"]:
        if isinstance(policy, dict):
            found.update({s["Sid"]: s for s in policy.get("Statement", []) if "Sid" in s})
    return found


def test_no_cadence_schedule_or_parameter_is_left_in_the_template(sam_template: Template) -> None:
    # Given the template / Then the cadences' schedules come from the config, not from it
    text = str(sam_template)
    for removed in ("HourlyCadenceSchedule", "DailyCadenceSchedule", "HourlyCadence"):
        assert removed not in text
    events = sam_template["Resources"]["BatchDispatchStateMachine"]["Properties"].get("Events")
    assert not events


def test_the_schedule_group_is_the_stacks_own(sam_template: Template) -> None:
    # Given the cadence group / Then it is named after the stack (deleted with it)
    group = resources(sam_template, "AWS::Scheduler::ScheduleGroup")[GROUP]
    assert group["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-cadences"}


def test_the_schedule_role_trusts_only_the_stacks_cadence_group(sam_template: Template) -> None:
    # Given the role the cadence schedules assume
    role = sam_template["Resources"][ROLE]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # Then only the scheduler, for this account and the cadence group, may assume it
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = trust["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert refs(source) >= {GROUP}
    assert source["Fn::Sub"].endswith(":schedule-group/${CadenceScheduleGroup}")
    # And it may start the dispatch state machine and dead-letter, nothing else
    (policy,) = role["Policies"]
    actions = {s["Action"]: refs(s["Resource"]) for s in policy["PolicyDocument"]["Statement"]}
    assert actions == {
        "states:StartExecution": {"BatchDispatchStateMachine"},
        "sqs:SendMessage": {"CadenceScheduleDLQ"},
    }


def test_the_loader_may_write_schedules_of_its_group_only(sam_template: Template) -> None:
    # Given the config loader's statements
    statements = loader_statements(sam_template)
    keep = statements["KeepCadenceSchedules"]
    # Then it reads and writes schedules of the cadence group, and lists nothing
    assert set(keep["Action"]) == {
        "scheduler:GetSchedule",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }
    assert keep["Resource"]["Fn::Sub"].endswith(":schedule/${CadenceScheduleGroup}/*")
    # And it may pass the schedule role to the scheduler only
    passing = statements["PassCadenceScheduleRole"]
    assert (passing["Action"], refs(passing["Resource"])) == ("iam:PassRole", {ROLE})
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    # And it reads every stored cadence (not only the uploaded file's)
    assert refs(statements["ReadStoredCadences"]["Resource"]) == {"BatchConfigTable"}


def test_the_loader_environment_holds_every_schedule_setting(sam_template: Template) -> None:
    # Given the loader's environment
    variables = loader(sam_template)["Properties"]["Environment"]["Variables"]
    # Then every CadenceScheduleSettings variable is set, from the stack's resources
    aliases = {field.alias for field in CadenceScheduleSettings.model_fields.values()}
    assert aliases <= set(variables)
    assert refs(variables["CADENCE_SCHEDULE_GROUP"]) == {GROUP}
    assert refs(variables["BATCH_DISPATCH_STATE_MACHINE_ARN"]) == {"BatchDispatchStateMachine"}
    assert refs(variables["CADENCE_SCHEDULE_ROLE_ARN"]) == {ROLE}
    assert refs(variables["CADENCE_SCHEDULE_DLQ_ARN"]) == {"CadenceScheduleDLQ"}
    assert refs(variables["CADENCE_SCHEDULES_STATE"]) == {"CadenceSchedulesState"}
    assert refs(variables["SCHEDULE_TIMEZONE"]) == {"ScheduleTimezone"}
