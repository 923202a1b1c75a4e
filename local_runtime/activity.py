"""What happened in the local runtime, in the order it happened: the demo's report and a
handle for tests to assert on routing without peeking into moto."""

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RoutedEvent:
    """One event delivered by a rule (or a subscription, a schedule...) to one target."""

    via: str  # e.g. "rule StagingObjectCreatedRule"
    target: str  # ARN of the target
    event: dict[str, Any]


@dataclass(frozen=True)
class PublishedEvent:
    bus: str
    source: str
    detail_type: str
    detail: dict[str, Any]


@dataclass
class ActivityLog:
    routed: list[RoutedEvent] = field(default_factory=list)
    unrouted: list[RoutedEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What local Glue runs reported (the job's own outcome JSON, per batch)
    job_outcomes: list[dict[str, Any]] = field(default_factory=list)
    # Every PutEvents entry sent (accepted or not): what our functions announced
    published: list[PublishedEvent] = field(default_factory=list)

    def publish(self, bus: str, source: str, detail_type: str, detail: Any) -> None:
        parsed = json.loads(detail) if isinstance(detail, str) else detail
        self.published.append(PublishedEvent(bus, source, detail_type, parsed or {}))

    # Log lines of local job runs (Glue), per job
    job_logs: dict[str, list[str]] = field(default_factory=dict)

    def notes_for(self, job: str) -> list[str]:
        return self.job_logs.setdefault(job, [])

    def route(self, via: str, target: str, event: dict[str, Any]) -> None:
        self.routed.append(RoutedEvent(via, target, event))

    def cannot_route(self, via: str, target: str, event: dict[str, Any], why: str) -> None:
        """A target type the local runtime does not emulate yet: recorded, never dropped."""
        self.unrouted.append(RoutedEvent(via, target, event))
        self.notes.append(f"{via} → {target}: {why}")

    def routes(self) -> Counter[tuple[str, str]]:
        return Counter((r.via, r.target.rsplit(":", 1)[-1]) for r in self.routed)


def emitted_metrics(logs: str) -> Counter[str]:
    """Sum the CloudWatch embedded-metric-format lines a function printed, by metric name."""
    totals: Counter[str] = Counter()  # values are floats in EMF; Counter adds them fine
    for line in logs.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        try:
            blob = json.loads(line)
        except json.JSONDecodeError:
            continue
        for directive in blob.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive.get("Metrics", []):
                name = metric.get("Name")
                value = blob.get(name)
                values = value if isinstance(value, list) else [value]
                totals[name] += int(sum(v for v in values if isinstance(v, int | float)))
    return totals
