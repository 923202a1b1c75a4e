"""The small SAM projects the local runtime's own tests deploy: one function that records events."""

import json
from pathlib import Path
from typing import Any

RECORD_FILE = "record.jsonl"


def write_project(root: Path, function: str, code: str, template: str) -> Path:
    """functions/<function>/app.py holding ``code`` and template.yaml under ``root``; the
    template's path."""
    (root / "functions" / function).mkdir(parents=True)
    (root / "functions" / function / "app.py").write_text(code)
    (root / "template.yaml").write_text(template)
    return root / "template.yaml"


def recorded(root: Path) -> list[Any]:
    """The events the project's function appended to its record file, in order."""
    path = root / RECORD_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
