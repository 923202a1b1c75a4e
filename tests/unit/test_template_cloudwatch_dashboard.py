"""The operations dashboard (OperationsDashboard): what template.yaml holds is what the generator
writes from the template's own resources, every queue, alarm, function, state machine and Glue
job is on it, its ${...} variables name what exists, and its widgets are valid CloudWatch
dashboard JSON within CloudWatch's documented limits."""

import copy
import dataclasses
import json
import re
from typing import Any, Final

import pytest

from tests.unit.template_support import ROOT, Template, resources
from tools.dashboards import cloudwatch, template_regions
from tools.dashboards.cloudwatch_sections import SECTIONS, EmfChart, Section

# CloudWatch's documented limits: a body holds 0-500 widgets (Dashboard Body Structure); a
# dashboard reads at most 500 metrics per widget and 2,500 in all (CloudWatch service quotas);
# an alarm status widget lists 1-100 alarms; widths are 1-24 grid units, heights 1-1000.
MAX_WIDGETS: Final = 500
MAX_METRICS_PER_WIDGET: Final = 500
MAX_METRICS: Final = 2500
MAX_ALARMS_PER_WIDGET: Final = 100
MAX_HEIGHT: Final = 1000
# The template goes to CloudFormation through S3 (sam deploy): at most 1 MB, dashboard included.
MAX_TEMPLATE_BYTES: Final = 1_048_576

PSEUDO_PARAMETERS: Final = {
    f"AWS::{name}" for name in ("Region", "AccountId", "Partition", "StackName")
}
# Fn::GetAtt attributes the body may read, by resource type (CloudFormation's return values).
READABLE_ATTRIBUTES: Final = {"AWS::SQS::Queue": {"QueueName", "Arn", "QueueUrl"}}
STATS: Final = re.compile(r"Sum|Maximum|Minimum|Average|SampleCount|p\d{1,2}(\.\d+)?")
VARIABLE: Final = re.compile(r"\$\{([^}!]+)\}")


def _dashboard(template: Template) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][cloudwatch.DASHBOARD_ID]
    return resource


def _resolved(text: str) -> str:
    """The Sub text with each variable as a placeholder: <Name>, <Name.Attribute>, <AWS::X>."""
    return VARIABLE.sub(lambda match: f"<{match.group(1)}>", text)


@pytest.fixture(scope="module")
def document(sam_template: Template) -> dict[str, Any]:
    body = _dashboard(sam_template)["Properties"]["DashboardBody"]["Fn::Sub"]
    parsed: dict[str, Any] = json.loads(_resolved(body))
    return parsed


def _metric_widgets(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in document["widgets"] if w["type"] == "metric"]


def _dimension_values(document: dict[str, Any], name: str) -> set[str]:
    """Every value the dashboard's metric lines give the dimension ``name``."""
    values = set()
    for widget in _metric_widgets(document):
        for line in widget["properties"]["metrics"]:
            parts = [part for part in line if isinstance(part, str)][2:]
            values |= {
                value for key, value in zip(parts[::2], parts[1::2], strict=True) if key == name
            }
    return values


def _alarm_widgets(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in document["widgets"] if w["type"] == "alarm"]


def test_the_template_holds_the_dashboard_the_generator_writes_now(sam_template: Template) -> None:
    # Given template.yaml and the generator
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    # When the generator writes the block from the template's resources
    expected = template_regions.render(cloudwatch.resources(sam_template))
    # Then the template's block is that, byte for byte (make dashboards rewrites it)
    assert template_regions.current(text, "cloudwatch") == expected


def test_every_queue_function_state_machine_and_glue_job_is_charted(
    sam_template: Template, document: dict[str, Any]
) -> None:
    # Given the template's queues, functions, state machines and Glue jobs
    queues = resources(sam_template, "AWS::SQS::Queue")
    functions = resources(sam_template, "AWS::Serverless::Function")
    machines = resources(sam_template, "AWS::Serverless::StateMachine")
    jobs = resources(sam_template, "AWS::Glue::Job")
    # Then the dashboard charts each one by the name or ARN CloudFormation gives it
    assert len(queues) >= 19
    assert len(functions) >= 12
    assert {f"<{q}.QueueName>" for q in queues} <= _dimension_values(document, "QueueName")
    assert {f"<{f}>" for f in functions} <= _dimension_values(document, "FunctionName")
    assert {f"<{m}>" for m in machines} <= _dimension_values(document, "StateMachineArn")
    assert {f"<{j}>" for j in jobs} <= _dimension_values(document, "JobName")


def test_every_alarm_is_listed_by_its_arn_on_the_stack_widget_and_in_a_section(
    sam_template: Template, document: dict[str, Any]
) -> None:
    # Given every alarm, and the ARN its name gives it
    alarms = resources(sam_template, "AWS::CloudWatch::Alarm")
    prefix = "arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:"
    arns = {prefix + _resolved(a["Properties"]["AlarmName"]["Fn::Sub"]) for a in alarms.values()}
    # When the alarm status widgets are read
    stack_widget, *section_widgets = _alarm_widgets(document)
    in_sections = [arn for w in section_widgets for arn in w["properties"]["alarms"]]
    # Then the first lists every alarm, and each alarm is in exactly one section's widget
    assert len(alarms) >= 22
    assert set(stack_widget["properties"]["alarms"]) == arns
    assert sorted(in_sections) == sorted(arns)


def test_every_variable_names_a_resource_attribute_parameter_or_pseudo_parameter(
    sam_template: Template,
) -> None:
    # Given the variables of the body's Fn::Sub
    body = _dashboard(sam_template)["Properties"]["DashboardBody"]["Fn::Sub"]
    variables = set(VARIABLE.findall(body))
    declared = sam_template["Resources"]
    # Then each is a pseudo parameter, a parameter, a resource or an attribute its type returns
    for variable in variables:
        name, _, attribute = variable.partition(".")
        if variable in PSEUDO_PARAMETERS or (not attribute and name in sam_template["Parameters"]):
            continue
        assert name in declared, variable
        if attribute:
            assert attribute in READABLE_ATTRIBUTES.get(declared[name]["Type"], set()), variable
    assert "Stage" in variables  # the functions' own metrics carry the stage dimension


def test_widgets_fit_the_24_column_grid_without_overlapping(document: dict[str, Any]) -> None:
    # Given every widget's place and size
    cells: dict[tuple[int, int], int] = {}
    for index, widget in enumerate(document["widgets"]):
        x, y, width, height = (widget[key] for key in ("x", "y", "width", "height"))
        # Then it sits inside the grid
        assert all(isinstance(value, int) for value in (x, y, width, height)), widget
        assert 1 <= width <= 24, widget
        assert 0 <= x <= x + width <= 24, widget
        assert 1 <= height <= MAX_HEIGHT, widget
        assert y >= 0, widget
        # And no other widget covers any of its cells
        for cell in ((col, row) for col in range(x, x + width) for row in range(y, y + height)):
            assert cell not in cells, f"widgets {cells[cell]} and {index} overlap at {cell}"
            cells[cell] = index


def _assert_metric_line(line: list[Any]) -> None:
    if len(line) == 1:  # a search or math expression: [{"expression": ..., "id": ...}]
        (expression,) = line
        assert {"expression", "id", "label"} <= set(expression), line
        assert expression["expression"].startswith("SEARCH('{"), line
        return
    *fields, options = line
    # [namespace, metric, dimension, value, ..., {options}]: names and values pair up
    assert all(isinstance(field, str) and field for field in fields), line
    assert len(fields) >= 2, line
    assert len(fields) % 2 == 0, line
    assert STATS.fullmatch(options["stat"]), line
    assert options["label"], line


def test_widgets_are_valid_dashboard_json(document: dict[str, Any]) -> None:
    # Given every widget
    for widget in document["widgets"]:
        properties = widget["properties"]
        # Then it is a text, alarm status or metric widget, each with what its type needs
        assert widget["type"] in {"text", "alarm", "metric"}, widget
        if widget["type"] == "text":
            assert properties["markdown"].startswith("#")
        elif widget["type"] == "alarm":
            assert 1 <= len(properties["alarms"]) <= MAX_ALARMS_PER_WIDGET
        else:
            assert properties["region"] == "<AWS::Region>"
            assert properties["title"]
            assert properties["metrics"], widget
            for line in properties["metrics"]:
                _assert_metric_line(line)


def test_the_dashboard_stays_within_cloudwatch_and_cloudformation_limits(
    document: dict[str, Any],
) -> None:
    # Given the dashboard's widgets and metric lines
    per_widget = [len(w["properties"]["metrics"]) for w in _metric_widgets(document)]
    # Then each limit holds, with room to grow
    assert len(document["widgets"]) <= MAX_WIDGETS
    assert max(per_widget) <= MAX_METRICS_PER_WIDGET
    assert sum(per_widget) <= MAX_METRICS
    assert len((ROOT / "template.yaml").read_bytes()) <= MAX_TEMPLATE_BYTES


def test_stream_consumers_chart_iterator_age_and_consumed_queues_their_oldest_message(
    document: dict[str, Any],
) -> None:
    # Given the lines of the iterator-age and message-age charts
    def charted(metric: str, dimension: str) -> set[str]:
        return {
            line[3]
            for widget in _metric_widgets(document)
            for line in widget["properties"]["metrics"]
            if line[1:3] == [metric, dimension]
        }

    # Then the functions streams feed, and only they, have iterator age
    assert charted("IteratorAge", "FunctionName") == {
        "<IcebergCdcFunction>",
        "<ObjectRewriterFunction>",
    }
    # And the queues a mapping consumes have their oldest message's age; dead-letter queues not
    ages = charted("ApproximateAgeOfOldestMessage", "QueueName")
    assert "<FileTrackerQueue.QueueName>" in ages
    assert not {age for age in ages if "DLQ" in age}


def test_function_metrics_are_charted_as_the_alarm_on_one_addresses_them(
    sam_template: Template, document: dict[str, Any]
) -> None:
    # Given the alarm on a function's own metric (the object rewriter's abandoned tasks)
    alarm = sam_template["Resources"]["ObjectTasksAbandonedAlarm"]["Properties"]
    expected = (
        alarm["Namespace"],
        alarm["MetricName"],
        {
            (d["Name"], d["Value"] if isinstance(d["Value"], str) else "<Stage>")
            for d in alarm["Dimensions"]
        },
    )
    # Then the dashboard charts that metric in the same namespace, with the same dimensions
    charted = [
        (line[0], line[1], set(zip(line[2:-1:2], line[3:-1:2], strict=True)))
        for widget in _metric_widgets(document)
        for line in widget["properties"]["metrics"]
        if len(line) > 1
    ]
    assert expected in charted


def test_every_section_shows_some_of_the_templates_resources(sam_template: Template) -> None:
    # Given the sections and the resources placed in them
    placed = cloudwatch.placed(sam_template)
    # Then none is left empty by a prefix no resource has any more
    for section, members in placed.items():
        assert any(dataclasses.astuple(members)), section.title


def test_a_function_that_fits_no_section_makes_the_generator_raise(sam_template: Template) -> None:
    # Given a template with a function no section's prefixes cover
    template = copy.deepcopy(sam_template)
    template["Resources"]["ReportWriterFunction"] = copy.deepcopy(
        template["Resources"]["FileTrackerFunction"]
    )
    # When the dashboard is generated / Then it refuses, naming the function
    with pytest.raises(cloudwatch.PlacementError, match="ReportWriterFunction fits no section"):
        cloudwatch.resources(template)


def test_a_resource_that_fits_two_sections_makes_the_generator_raise() -> None:
    # Given two sections whose prefixes both cover a queue
    overlapping = (Section("A", "", ("FileTracker",)), Section("B", "", ("FileTrackerDLQ",)))
    # When the queue is placed / Then the generator refuses
    with pytest.raises(cloudwatch.PlacementError, match="fits A and B"):
        cloudwatch.section_of("FileTrackerDLQ", overlapping)


def test_a_chart_of_a_metric_the_function_never_emits_makes_the_generator_raise(
    sam_template: Template,
) -> None:
    # Given the file tracking section charting a metric name its function's code never spells
    typo = EmfChart("Files tracked", "FileTrackerFunction", ("FilesTrackd",))
    sections = (dataclasses.replace(SECTIONS[0], charts=(typo,)), *SECTIONS[1:])
    # When the body is generated / Then it refuses, naming the metric
    with pytest.raises(cloudwatch.PlacementError, match="FilesTrackd"):
        cloudwatch.body(sam_template, sections)


def test_the_stack_outputs_the_dashboards_console_url(sam_template: Template) -> None:
    # Given the OperationsDashboardUrl output
    url = sam_template["Outputs"]["OperationsDashboardUrl"]["Value"]["Fn::Sub"]
    # Then it opens this dashboard in the stack's region of the CloudWatch console
    assert url.startswith("https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home")
    assert url.endswith(f"#dashboards/dashboard/${{{cloudwatch.DASHBOARD_ID}}}")
