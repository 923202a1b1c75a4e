"""In-memory AWS clients the handler benchmarks share: they answer as AWS does, and count calls,
so a benchmark times our code and not moto's."""

from collections import Counter
from typing import Any, Final

MAX_ENTRIES_PER_CALL: Final = 10  # PutEvents' limit: a publisher that sends more is wrong


class AcceptingEventsClient:
    """EventBridge's put_events, accepting every entry."""

    def __init__(self) -> None:
        self.entries = 0
        self.calls: Counter[str] = Counter()

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls["PutEvents"] += 1
        assert len(Entries) <= MAX_ENTRIES_PER_CALL
        self.entries += len(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


class InMemoryS3Client:
    """S3's put_object into a dict."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.calls: Counter[str] = Counter()

    def put_object(self, **request: Any) -> dict[str, Any]:
        self.calls["PutObject"] += 1
        body = request["Body"]
        self.objects[request["Key"]] = body if isinstance(body, bytes) else str(body).encode()
        return {"ETag": '"e"'}
