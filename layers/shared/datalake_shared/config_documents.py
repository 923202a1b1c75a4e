"""Reading a pipeline config file (YAML or JSON) into plain data, with the line of each value and
the keys a YAML mapping repeats, for problems that say where they are."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Final

from datalake_shared.config_problems import (
    ConfigProblem,
    Location,
    PipelineConfigError,
    format_location,
)

YAML_SUFFIXES: Final = (".yaml", ".yml")
JSON_SUFFIXES: Final = (".json",)
# Aliases let a small YAML document expand into a huge one ("billion laughs"): stop early.
MAX_DOCUMENT_NODES: Final = 200_000


@dataclass
class Document:
    """A config file's data, where each value of a YAML document starts, and the keys it repeats
    (JSON gives no lines and keeps a repeated key's last value)."""

    data: object
    lines: dict[Location, int] = field(default_factory=dict)
    duplicates: list[ConfigProblem] = field(default_factory=list)
    nodes: int = 0


def _index_yaml(node: Any, location: Location, document: Document) -> None:
    """Walks PyYAML's node tree (``node.id`` is "scalar", "sequence" or "mapping")."""
    document.nodes += 1
    if document.nodes > MAX_DOCUMENT_NODES:
        raise PipelineConfigError(
            "", [ConfigProblem("", f"document has more than {MAX_DOCUMENT_NODES} values")]
        )
    document.lines.setdefault(location, node.start_mark.line + 1)
    if node.id == "mapping":
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                document.duplicates.append(
                    ConfigProblem(
                        format_location((*location, key)),
                        "duplicate key: the later value would silently replace the earlier one",
                        key_node.start_mark.line + 1,
                    )
                )
                continue
            seen.add(key)
            _index_yaml(value_node, (*location, key), document)
    elif node.id == "sequence":
        for position, item in enumerate(node.value):
            _index_yaml(item, (*location, position), document)


def _load_yaml(text: str, source: str) -> Document:
    # Imported here: only config loaders need PyYAML; the other functions read stored configs.
    import yaml  # type: ignore[import-untyped]  # noqa: PLC0415  (PyYAML ships no stubs)

    document = Document(data=None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return document
        _index_yaml(node, (), document)
        document.data = loader.construct_document(node)
        return document
    except PipelineConfigError as error:
        raise PipelineConfigError(source, error.problems) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.context, error.problem) if part)
        line = mark.line + 1 if mark is not None else None
        problem = ConfigProblem("", f"not valid YAML: {message}", line)
        raise PipelineConfigError(source, [problem]) from None
    except (yaml.YAMLError, RecursionError) as error:
        raise PipelineConfigError(source, [ConfigProblem("", f"not valid YAML: {error}")]) from None
    finally:
        loader.dispose()


def _load_json(text: str, source: str) -> Document:
    try:
        return Document(data=json.loads(text))
    except json.JSONDecodeError as error:
        raise PipelineConfigError(
            source, [ConfigProblem("", f"not valid JSON: {error.msg}", error.lineno)]
        ) from None
    except RecursionError:
        raise PipelineConfigError(source, [ConfigProblem("", "JSON nested too deeply")]) from None


def load_document(text: str, filename: str) -> Document:
    """The file's data: YAML for .yaml/.yml, JSON for .json. Raises ``PipelineConfigError`` when
    it does not parse, or is not a mapping."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in YAML_SUFFIXES:
        document = _load_yaml(text, filename)
    elif suffix in JSON_SUFFIXES:
        document = _load_json(text, filename)
    else:
        supported = ", ".join((*YAML_SUFFIXES, *JSON_SUFFIXES))
        raise PipelineConfigError(
            filename, [ConfigProblem("", f"unsupported file type {suffix!r}; use {supported}")]
        )
    if not isinstance(document.data, Mapping):
        raise PipelineConfigError(
            filename,
            [ConfigProblem("", "must be a mapping with the keys 'batches' and 'tables'")],
        )
    return document


def line_of(location: Location, lines: Mapping[Location, int]) -> int | None:
    """Line of the value at ``location``, else of its nearest enclosing value (a missing key)."""
    for end in range(len(location), -1, -1):
        line = lines.get(location[:end])
        if line is not None:
            return line
    return None
