"""A Slack poster that posts nothing: what alerting code hands it, for the tests to read."""

from dataclasses import dataclass, field
from typing import Any

from datalake_shared.slack import AlertOutcome


@dataclass
class RecordingPoster:
    posts: list[tuple[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def post(self, alert_id: str, payload: Any) -> AlertOutcome:
        self.posts.append((alert_id, payload))
        return AlertOutcome(alert_id, posted=True, attempts=1)

    def register_lambda_context(self, context: Any) -> None:
        self.contexts.append(context)

    @property
    def posted(self) -> list[str]:
        return [alert_id for alert_id, _ in self.posts]
