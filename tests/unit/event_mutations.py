"""Hypothesis strategies that damage a JSON event the ways real traffic and hand-made test
events do: a field dropped, retyped, enlarged or filled with awkward Unicode, at any depth —
inside a JSON document carried as a string too (an SQS body, an SNS message)."""

import json
from collections.abc import Callable
from typing import Any, Final

from hypothesis import strategies as st

Path = tuple[Any, ...]
EMBEDDED: Final = object()
"""A path step into a string that holds a JSON object or array."""

_OTHER_TYPES: Final = (None, True, 0, -1, 2**63, 1.5e308, "", "x", [], {}, [None], {"": None})
_AWKWARD_TEXT: Final = (
    "\u0000",
    "\u202e",  # right-to-left override
    "\ud800",  # a lone surrogate: valid in JSON's \\u escapes, not in UTF-8
    "é",
    "\U0001d518",
    "'; DROP TABLE t;--",
    '"quoted", and, commas\nand lines',
    "../../etc/passwd",
)
_LARGE: Final = 300_000


def _embedded(value: str) -> Any:
    if value[:1] not in ("{", "["):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def paths(document: Any, prefix: Path = ()) -> list[Path]:
    """Every place in the document, the root excluded, in document order."""
    found: list[Path] = []
    children: list[tuple[Any, Any]] = []
    if isinstance(document, dict):
        children = list(document.items())
    elif isinstance(document, list):
        children = list(enumerate(document))
    elif isinstance(document, str) and (inner := _embedded(document)) is not None:
        return paths(inner, (*prefix, EMBEDDED))
    for step, child in children:
        found.append((*prefix, step))
        found.extend(paths(child, (*prefix, step)))
    return found


def _apply(document: Any, path: Path, change: Callable[[Any], Any] | None) -> Any:
    """A copy of the document with the value at ``path`` changed (``None``: removed)."""
    step, rest = path[0], path[1:]
    if step is EMBEDDED:
        return json.dumps(_apply(json.loads(document), rest, change))
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    if rest:
        copy[step] = _apply(document[step], rest, change)
    elif change is None:
        del copy[step]
    else:
        copy[step] = change(document[step])
    return copy


def _enlarged(value: Any) -> Any:
    if isinstance(value, str):
        return (value or "x") * (_LARGE // max(len(value), 1) + 1)
    if isinstance(value, list) and value:
        return value * 3
    return "x" * _LARGE


@st.composite
def _change(draw: st.DrawFn) -> Callable[[Any], Any] | None:
    kind = draw(st.sampled_from(["drop", "retype", "enlarge", "unicode"]))
    if kind == "drop":
        return None
    if kind == "retype":
        other = draw(st.sampled_from(_OTHER_TYPES))
        return lambda _value: json.loads(json.dumps(other))
    if kind == "enlarge":
        return _enlarged
    awkward = draw(st.sampled_from(_AWKWARD_TEXT))
    return lambda value: f"{value}{awkward}" if isinstance(value, str) else awkward


@st.composite
def damaged(draw: st.DrawFn, document: Any, most: int = 3) -> Any:
    """The document with one to ``most`` places dropped, retyped, enlarged or mangled."""
    for _ in range(draw(st.integers(1, most))):
        places = paths(document)
        if not places:
            break
        document = _apply(document, draw(st.sampled_from(places)), draw(_change()))
    return document
