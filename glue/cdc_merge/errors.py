"""Short, bounded summaries of a table's failure, for its history record.

A Spark failure reaches Python as a Py4JJavaError whose text is the whole Java stack (9-13 kB,
often without the file it was reading). The history keeps what an operator acts on: the
exception class (the Java root cause for a Py4J error), the first line of its message, and the
file and column when known; the full error with its stack goes to the job's log.
"""

from dataclasses import dataclass
from typing import Any, Final

MAX_SUMMARY_CHARS: Final = 1_000
_MAX_MESSAGE_CHARS: Final = 600
_MAX_NAME_CHARS: Final = 300
_MAX_CAUSE_DEPTH: Final = 32
_CAUSED_BY: Final = "Caused by: "


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(text: str) -> str:
    """The first non-blank line, stripped (a message's headline)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@dataclass(frozen=True)
class ErrorSummary:
    kind: str
    message: str
    file: str | None = None
    column: str | None = None

    def text(self) -> str:
        """``kind: message [file: ...] [column: ...]``, at most MAX_SUMMARY_CHARS characters."""
        parts = [f"{self.kind}: {_clip(self.message, _MAX_MESSAGE_CHARS)}"]
        if self.file:
            parts.append(f"[file: {_clip(self.file, _MAX_NAME_CHARS)}]")
        if self.column:
            parts.append(f"[column: {_clip(self.column, _MAX_NAME_CHARS)}]")
        return _clip(" ".join(parts), MAX_SUMMARY_CHARS)

    def as_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "message": self.message,
            "file": self.file,
            "column": self.column,
        }

    @classmethod
    def from_json(cls, data: Any) -> "ErrorSummary":
        def text(key: str) -> str | None:
            value = data.get(key) if isinstance(data, dict) else None
            return value if isinstance(value, str) else None

        return cls(text("kind") or "Error", text("message") or "", text("file"), text("column"))


class LocatedError(Exception):
    """A failure about one of a table's files, and maybe one of its columns.

    ``reason`` is the message without the location; ``str()`` carries both, for the log.
    """

    def __init__(self, reason: str, *, file: str | None = None, column: str | None = None):
        located = " ".join(
            part
            for part in (f"[file: {file}]" if file else "", f"[column: {column}]" if column else "")
            if part
        )
        super().__init__(f"{reason} {located}".strip())
        self.reason = reason
        self.file = file
        self.column = column


class SummarizedError(Exception):
    """A failure that arrives already summarized (e.g. from an engine in another process)."""

    def __init__(self, message: str, summary: ErrorSummary):
        super().__init__(message)
        self.summary = summary


def _java_root(error: BaseException) -> tuple[str, str] | None:
    """(class, message) of the innermost Java cause of a Py4J error, read from the JVM."""
    throwable = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    if throwable is None:
        return None
    try:
        for _ in range(_MAX_CAUSE_DEPTH):
            cause = throwable.getCause()
            if cause is None:
                break
            throwable = cause
        return str(throwable.getClass().getName()), str(throwable.getMessage() or "")
    except Exception:  # the JVM may be gone: read the text instead
        return None


def _java_root_from_text(text: str) -> tuple[str, str] | None:
    """(class, message) of a Java stack printed as text: its last ``Caused by:`` line, else the
    ``: Class: message`` line Py4J puts after its own headline."""
    lines = [line.strip() for line in text.splitlines()]
    causes = [line.removeprefix(_CAUSED_BY) for line in lines if line.startswith(_CAUSED_BY)]
    thrown = [line.removeprefix(": ") for line in lines[:3] if line.startswith(": ")]
    for headline in (*causes[-1:], *thrown):
        name, separator, message = headline.partition(": ")
        if separator and "." in name and " " not in name:
            return name, message
    return None


def summarize(error: BaseException) -> ErrorSummary:
    """What a history record keeps of a failure (see the module docstring).

    The cause chain (``raise ... from``) is followed: a Py4J error in it gives the Java root
    cause's class and message; otherwise a LocatedError gives its reason; otherwise the error
    itself speaks. File and column come from the first LocatedError that has them.
    """
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < _MAX_CAUSE_DEPTH and current not in chain:
        if isinstance(current, SummarizedError):
            return current.summary
        chain.append(current)
        current = current.__cause__
    located = [e for e in chain if isinstance(e, LocatedError)]
    file = next((e.file for e in located if e.file), None)
    column = next((e.column for e in located if e.column), None)
    root = chain[-1]
    java = _java_root(root) or (
        _java_root_from_text(str(root)) if hasattr(root, "java_exception") else None
    )
    if java is not None:
        kind, message = java
    elif located:
        kind, message = type(located[0]).__name__, located[0].reason
    else:
        kind, message = type(error).__name__, str(error)
    return ErrorSummary(kind, first_line(message) or kind, file, column)
