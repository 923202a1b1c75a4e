"""What is wrong with a pipeline config file: each problem with its location and, for YAML, its
line, and the error that carries them all."""

from collections.abc import Sequence
from dataclasses import dataclass

Location = tuple[str | int, ...]


def format_location(location: Location) -> str:
    """``("tables", 3, "primary_key")`` -> ``tables[3].primary_key``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a config file, where it is, and (for YAML) on which line."""

    location: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        line = f" (line {self.line})" if self.line is not None else ""
        return f"{where}{self.message}{line}"


class PipelineConfigError(ValueError):
    """A config file was rejected; ``problems`` holds every problem found, in file order."""

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(str(problem) for problem in self.problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''}\n{lines}")
