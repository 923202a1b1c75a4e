"""Where the Glue 5 job logs: the two stack-owned groups its --custom-logGroup-prefix names,
with the stack's retention, and the job's role may write to nothing else.

Glue 5 logs in real time on its own (--enable-continuous-cloudwatch-log is a Glue 4 switch) to
<prefix>/error (system, Spark, GlueLogger) and <prefix>/output (stdout, stderr); the default
prefix is the account-wide /aws-glue/jobs, whose groups no stack owns or expires."""

from typing import Any

from template_support import Template, resources

JOB = "CdcMergeJob"


def _job(template: Template) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][JOB]["Properties"]
    return properties


def _job_log_groups(template: Template) -> dict[str, dict[str, Any]]:
    """The stack's log groups named <the job's log group prefix>/<suffix>."""
    prefix = _job(template)["DefaultArguments"]["--custom-logGroup-prefix"]["Fn::Sub"]
    return {
        logical: group
        for logical, group in resources(template, "AWS::Logs::LogGroup").items()
        if group["Properties"]["LogGroupName"].get("Fn::Sub", "").startswith(f"{prefix}/")
    }


def _job_logs_statement(template: Template) -> dict[str, Any]:
    role = template["Resources"][JOB]["Properties"]["Role"]["Fn::GetAtt"][0]
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "JobLogs":
                return dict(statement)
    raise AssertionError(f"{role} has no JobLogs statement")


def test_the_job_runs_on_glue_5_without_the_glue_4_logging_switch(sam_template: Template) -> None:
    # Given the job / Then it is a Glue 5 job and carries no argument Glue 5 ignores
    job = _job(sam_template)
    assert job["GlueVersion"].startswith("5.")
    assert "--enable-continuous-cloudwatch-log" not in job["DefaultArguments"]


def test_both_glue_5_log_groups_are_the_stacks_with_retention(sam_template: Template) -> None:
    # Given the log groups under the job's prefix
    groups = _job_log_groups(sam_template)

    # Then the stack declares both groups Glue 5 writes to, each expiring with LogRetentionDays
    suffixes = {
        group["Properties"]["LogGroupName"]["Fn::Sub"].rsplit("/", 1)[1]
        for group in groups.values()
    }
    assert suffixes == {"error", "output"}
    retention = {logical: g["Properties"].get("RetentionInDays") for logical, g in groups.items()}
    assert retention == {logical: {"Ref": "LogRetentionDays"} for logical in groups}


def test_the_prefix_is_the_stacks_own(sam_template: Template) -> None:
    # Given the prefix / Then it names the stack, so two stacks never share (or expire) a group
    prefix = _job(sam_template)["DefaultArguments"]["--custom-logGroup-prefix"]["Fn::Sub"]
    assert "${AWS::StackName}" in prefix
    assert prefix != "/aws-glue/jobs"


def test_the_role_writes_only_to_the_jobs_log_groups(sam_template: Template) -> None:
    # Given the role's log statement
    statement = _job_logs_statement(sam_template)

    # Then it names exactly the job's two groups, by reference
    expected = [
        {"Fn::GetAtt": [logical, "Arn"]} for logical in sorted(_job_log_groups(sam_template))
    ]
    assert sorted(statement["Resource"], key=str) == sorted(expected, key=str)
    assert set(statement["Action"]) <= {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
