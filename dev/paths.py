"""Where the project is, and the code folders it imports from (one list: pytest's pythonpath)."""

import sys
import tomllib
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent


def project_paths(*, include_tests: bool = False) -> list[Path]:
    """The folders of pyproject.toml's pytest ``pythonpath``: the root, the shared layer, glue/,
    scripts/ and each function's code folder, and the test helpers' if asked."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    entries: list[str] = options["ini_options"]["pythonpath"]
    return [ROOT / entry for entry in entries if include_tests or not entry.startswith("tests")]


def put_project_on_path() -> None:
    """What pytest's pythonpath does for the tests, for a process of its own (``python -m
    dev``); folders already there are not added twice."""
    missing = [str(path) for path in project_paths() if str(path) not in sys.path]
    sys.path[:0] = missing
