"""The stack's CloudWatch dashboard, one section per capability, generated from the template.

Every function, queue, alarm, state machine, Glue job and event source mapping of the template
is placed in a section (``cloudwatch_sections``); one that fits no section, or two, makes the
generator raise, so a new resource cannot be left off the dashboard. What a section charts
follows from its resources: Lambda errors, throttles, p99 duration and concurrency per function;
iterator age for a function a stream mapping feeds; depth and age of the queues a mapping
consumes, depth of every other queue (dead-letter and failure queues); failed, timed-out and
aborted executions and execution time per state machine; task outcomes and ETL time per Glue
job (the job runs with ``--enable-metrics``); the section's alarms; the functions' own EMF
metrics the section names, each checked against the function's code.

The body is compact JSON inside ``Fn::Sub``: resources appear as ``${Logical}`` or
``${Logical.Attribute}``, so CloudFormation writes their real names. An alarm appears by the ARN
its name gives it (``arn:…:alarm:<AlarmName>``, the form decision 0022 matches alarms by): the
local runtime's moto creates no alarms, and would refuse a template reading their attributes.
"""

import ast
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from tools.dashboards.cloudwatch_sections import SECTIONS, EmfChart, Section
from tools.dashboards.definitions import ROOT

DASHBOARD_ID: Final = "OperationsDashboard"
GRID_WIDTH: Final = 24  # CloudWatch dashboards are 24 columns wide
CHART_WIDTH: Final = 8
CHART_HEIGHT: Final = 6
PERIOD_S: Final = 300
SHARED_LAYER: Final = ROOT / "layers/shared/datalake_shared"

FUNCTION_TYPES: Final = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
MACHINE_TYPES: Final = frozenset(
    {"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"}
)
QUEUE_TYPE: Final = "AWS::SQS::Queue"
ALARM_TYPE: Final = "AWS::CloudWatch::Alarm"
GLUE_JOB_TYPE: Final = "AWS::Glue::Job"
MAPPING_TYPE: Final = "AWS::Lambda::EventSourceMapping"
WATCHED_TYPES: Final = (
    FUNCTION_TYPES | MACHINE_TYPES | {QUEUE_TYPE, ALARM_TYPE, GLUE_JOB_TYPE, MAPPING_TYPE}
)


class PlacementError(ValueError):
    """A resource the dashboard must show has no section, or a chart names what does not exist."""


@dataclass(frozen=True)
class Members:
    """A section's resources by what the dashboard charts of them (logical ids)."""

    functions: tuple[str, ...]
    stream_consumers: tuple[str, ...]  # functions a stream mapping feeds
    work_queues: tuple[str, ...]  # queues a mapping consumes
    other_queues: tuple[str, ...]  # dead-letter and failure queues
    machines: tuple[str, ...]
    glue_jobs: tuple[str, ...]
    alarms: tuple[str, ...]


def section_of(logical_id: str, sections: Iterable[Section] = SECTIONS) -> Section:
    matches = [s for s in sections if logical_id.startswith(s.prefixes)]
    if len(matches) != 1:
        where = " and ".join(s.title for s in matches) or "no section"
        raise PlacementError(
            f"{logical_id} fits {where} of the operations dashboard: give it exactly one "
            "(SECTIONS in tools/dashboards/cloudwatch_sections.py)"
        )
    return matches[0]


def _referenced(value: Any) -> str | None:
    """The logical id a Ref or Fn::GetAtt names, or None."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def placed(
    template: Mapping[str, Any], sections: tuple[Section, ...] = SECTIONS
) -> dict[Section, Members]:
    """Every watched resource in its section; raises if one has none (or two)."""
    resources: Mapping[str, Any] = template["Resources"]
    kinds = {logical: r["Type"] for logical, r in resources.items() if r["Type"] in WATCHED_TYPES}
    consumed: set[str] = set()
    streamed: set[str] = set()
    for logical, kind in kinds.items():
        if kind != MAPPING_TYPE:
            continue
        props = resources[logical]["Properties"]
        source, function = _referenced(props["EventSourceArn"]), _referenced(props["FunctionName"])
        if source in kinds and kinds[source] == QUEUE_TYPE:
            consumed.add(source)
        if "StartingPosition" in props and function is not None:  # streams only: not SQS
            streamed.add(function)
    grouped: dict[Section, dict[str, list[str]]] = {
        s: {field: [] for field in Members.__dataclass_fields__} for s in sections
    }
    for logical, kind in kinds.items():
        members = grouped[section_of(logical, sections)]
        if kind in FUNCTION_TYPES:
            members["functions"].append(logical)
            if logical in streamed:
                members["stream_consumers"].append(logical)
        elif kind == QUEUE_TYPE:
            members["work_queues" if logical in consumed else "other_queues"].append(logical)
        elif kind in MACHINE_TYPES:
            members["machines"].append(logical)
        elif kind == GLUE_JOB_TYPE:
            members["glue_jobs"].append(logical)
        elif kind == ALARM_TYPE:
            members["alarms"].append(logical)
    return {s: Members(**{k: tuple(v) for k, v in grouped[s].items()}) for s in sections}


# --- the functions' own metrics --------------------------------------------------------------


def _variables(template: Mapping[str, Any], function: str) -> dict[str, Any]:
    """The function's environment as Lambda sees it: Globals first, its own on top."""
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    own_env = template["Resources"][function]["Properties"].get("Environment", {})
    return {**globals_env.get("Variables", {}), **own_env.get("Variables", {})}


def _sub_of(value: Any, what: str) -> str:
    """A template value as Fn::Sub text: a literal, or ${Name} for a Ref."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return "${" + str(value["Ref"]) + "}"
    raise PlacementError(f"{what} must be a literal or a Ref to chart it, not {value!r}")


@cache
def _string_constants(folder: Path) -> frozenset[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return frozenset(found)


def emitted_names(template: Mapping[str, Any], function: str) -> frozenset[str]:
    """Every string the function's code and the shared layer spell: its metric names among them."""
    code_uri = template["Resources"][function]["Properties"]["CodeUri"]
    return _string_constants(ROOT / code_uri) | _string_constants(SHARED_LAYER)


def _emf_widget(template: Mapping[str, Any], chart: EmfChart) -> dict[str, Any]:
    resources = template["Resources"]
    if resources.get(chart.function, {}).get("Type") not in FUNCTION_TYPES:
        raise PlacementError(f"chart {chart.title!r}: {chart.function} is not a function")
    unknown = set(chart.metrics) - emitted_names(template, chart.function)
    if unknown:
        raise PlacementError(
            f"chart {chart.title!r}: {chart.function}'s code emits no {sorted(unknown)}"
        )
    variables = _variables(template, chart.function)
    namespace = _sub_of(
        variables.get("POWERTOOLS_METRICS_NAMESPACE"), "POWERTOOLS_METRICS_NAMESPACE"
    )
    service = _sub_of(variables.get("POWERTOOLS_SERVICE_NAME"), "POWERTOOLS_SERVICE_NAME")
    stage = _sub_of(variables.get("STAGE"), "STAGE")
    if chart.per is None:
        metrics = [
            [namespace, name, "service", service, "stage", stage, {"stat": "Sum", "label": name}]
            for name in chart.metrics
        ]
    else:  # one line per value of the extra dimension, whatever values the code sends
        keys = ",".join(sorted(["service", "stage", chart.per]))
        metrics = [
            [
                {
                    "id": f"e{index}",
                    "label": name,
                    "expression": (
                        f'SEARCH(\'{{{namespace},{keys}}} MetricName="{name}" '
                        f'service="{service}" stage="{stage}"\', \'Sum\', {PERIOD_S})'
                    ),
                }
            ]
            for index, name in enumerate(chart.metrics, start=1)
        ]
    return _chart(chart.title, metrics)


# --- widgets ---------------------------------------------------------------------------------


def _chart(title: str, metrics: list[list[Any]]) -> dict[str, Any]:
    return {
        "type": "metric",
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": "${AWS::Region}",
            "period": PERIOD_S,
            "metrics": metrics,
        },
    }


def _line(namespace: str, name: str, dimensions: list[str], stat: str, label: str) -> list[Any]:
    return [namespace, name, *dimensions, {"stat": stat, "label": label}]


def _label(template: Mapping[str, Any], function: str) -> str:
    service = _variables(template, function).get("POWERTOOLS_SERVICE_NAME")
    return service if isinstance(service, str) else function


def _lambda_widgets(template: Mapping[str, Any], members: Members) -> list[dict[str, Any]]:
    if not members.functions:
        return []
    fns = [(f, ["FunctionName", "${" + f + "}"], _label(template, f)) for f in members.functions]
    widgets = [
        _chart(
            "Lambda errors and throttles",
            [
                _line("AWS/Lambda", metric, dims, "Sum", f"{label} {metric.lower()}")
                for _, dims, label in fns
                for metric in ("Errors", "Throttles")
            ],
        ),
        _chart(
            "Lambda duration p99 (ms)",
            [_line("AWS/Lambda", "Duration", dims, "p99", label) for _, dims, label in fns],
        ),
        _chart(
            "Lambda concurrent executions",
            [
                _line("AWS/Lambda", "ConcurrentExecutions", dims, "Maximum", label)
                for _, dims, label in fns
            ],
        ),
    ]
    if members.stream_consumers:
        widgets.append(
            _chart(
                "Stream iterator age (ms)",
                [
                    _line("AWS/Lambda", "IteratorAge", dims, "Maximum", label)
                    for f, dims, label in fns
                    if f in members.stream_consumers
                ],
            )
        )
    return widgets


def _queue_lines(queues: Iterable[str], metric: str) -> list[list[Any]]:
    return [
        _line("AWS/SQS", metric, ["QueueName", "${" + q + ".QueueName}"], "Maximum", q)
        for q in queues
    ]


def _queue_widgets(members: Members) -> list[dict[str, Any]]:
    widgets = []
    if members.work_queues:
        widgets += [
            _chart(
                "Queue depth",
                _queue_lines(members.work_queues, "ApproximateNumberOfMessagesVisible"),
            ),
            _chart(
                "Oldest message age (s)",
                _queue_lines(members.work_queues, "ApproximateAgeOfOldestMessage"),
            ),
        ]
    if members.other_queues:
        widgets.append(
            _chart(
                "Dead-letter and failure queue depth",
                _queue_lines(members.other_queues, "ApproximateNumberOfMessagesVisible"),
            )
        )
    return widgets


def _machine_widgets(members: Members) -> list[dict[str, Any]]:
    if not members.machines:
        return []
    arns = [(m, ["StateMachineArn", "${" + m + "}"]) for m in members.machines]
    return [
        _chart(
            "Executions failed, timed out, aborted",
            [
                _line("AWS/States", metric, dims, "Sum", f"{m} {metric.removeprefix('Executions')}")
                for m, dims in arns
                for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted")
            ],
        ),
        _chart(
            "Execution time (ms)",
            [_line("AWS/States", "ExecutionTime", dims, "Maximum", m) for m, dims in arns],
        ),
    ]


def _glue_widgets(members: Members) -> list[dict[str, Any]]:
    if not members.glue_jobs:
        return []
    # Job metrics (--enable-metrics): namespace Glue, JobRunId ALL aggregates every run.
    jobs = [
        (j, ["JobName", "${" + j + "}", "JobRunId", "ALL", "Type", "count"])
        for j in members.glue_jobs
    ]
    return [
        _chart(
            "Glue tasks completed, failed, killed",
            [
                _line("Glue", f"glue.driver.aggregate.{metric}", dims, "Sum", f"{j} {metric}")
                for j, dims in jobs
                for metric in ("numCompletedTasks", "numFailedTasks", "numKilledTasks")
            ],
        ),
        _chart(
            "Glue ETL time (ms)",
            [
                _line("Glue", "glue.driver.aggregate.elapsedTime", dims, "Maximum", j)
                for j, dims in jobs
            ],
        ),
    ]


def alarm_arn(template: Mapping[str, Any], alarm: str) -> str:
    """The alarm's ARN as Fn::Sub text, from its AlarmName."""
    name = template["Resources"][alarm]["Properties"].get("AlarmName")
    text = name.get("Fn::Sub") if isinstance(name, dict) and len(name) == 1 else name
    if not isinstance(text, str):
        raise PlacementError(
            f"{alarm} needs an AlarmName (text or a one-argument Fn::Sub) to be on the dashboard"
        )
    return "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + text


def _alarm_widget(
    template: Mapping[str, Any], title: str, alarms: Iterable[str], width: int, height: int
) -> dict[str, Any]:
    return {
        "type": "alarm",
        "width": width,
        "height": height,
        "properties": {
            "title": title,
            "alarms": [alarm_arn(template, a) for a in alarms],
            "sortBy": "stateUpdatedTimestamp",
        },
    }


def _text(markdown: str, height: int) -> dict[str, Any]:
    return {
        "type": "text",
        "width": GRID_WIDTH,
        "height": height,
        "properties": {"markdown": markdown},
    }


def _laid_out(rows: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Widgets left to right, wrapping at the grid's width; each group starts a new row."""
    placed_widgets: list[dict[str, Any]] = []
    y = 0
    for row in rows:
        x, row_height = 0, 0
        for widget in row:
            if x + widget["width"] > GRID_WIDTH:
                x, y, row_height = 0, y + row_height, 0
            placed_widgets.append({**widget, "x": x, "y": y})
            x += widget["width"]
            row_height = max(row_height, widget["height"])
        y += row_height
    return placed_widgets


def widgets(
    template: Mapping[str, Any], sections: tuple[Section, ...] = SECTIONS
) -> list[dict[str, Any]]:
    by_section = placed(template, sections)
    every_alarm = [a for members in by_section.values() for a in members.alarms]
    rows: list[list[dict[str, Any]]] = [
        [
            _text(
                "# datalake-events operations\n"
                "Generated by `make dashboards` from template.yaml "
                "(tools/dashboards/cloudwatch.py): edits made in the console are lost on the "
                "next deploy.",
                2,
            )
        ],
        [
            _alarm_widget(
                template,
                "Every alarm of the stack",
                every_alarm,
                GRID_WIDTH,
                max(4, math.ceil(len(every_alarm) / 4) + 1),
            )
        ],
    ]
    for section, members in by_section.items():
        charts = [
            *_lambda_widgets(template, members),
            *_queue_widgets(members),
            *_machine_widgets(members),
            *_glue_widgets(members),
            *(_emf_widget(template, chart) for chart in section.charts),
        ]
        if members.alarms:
            charts.append(
                _alarm_widget(template, "Alarms", members.alarms, CHART_WIDTH, CHART_HEIGHT)
            )
        if charts:  # a section whose resources are all gone draws nothing
            rows += [[_text(f"## {section.title}\n{section.summary}", 2)], charts]
    return _laid_out(rows)


def body(template: Mapping[str, Any], sections: tuple[Section, ...] = SECTIONS) -> str:
    """The dashboard body as Fn::Sub text (compact JSON)."""
    document = {"start": "-PT12H", "periodOverride": "auto", "widgets": widgets(template, sections)}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def resources(template: Mapping[str, Any]) -> dict[str, Any]:
    return {
        DASHBOARD_ID: {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": {"Fn::Sub": "${AWS::StackName}-operations"},
                "DashboardBody": {"Fn::Sub": body(template)},
            },
        }
    }
