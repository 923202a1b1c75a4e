"""Records the calls a real boto3 client makes (moto's or DynamoDB Local's), for tests to read."""

from collections import Counter
from typing import Any


class CallRecorder:
    """Records the operations (and a copy of their parameters) a client makes from now on."""

    def __init__(self, client: Any, service: str = "dynamodb") -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register(f"before-parameter-build.{service}", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    def counts(self) -> dict[str, int]:
        return dict(Counter(self.operations()))

    def params_of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]
