"""Plain-text reports for the terminal (no dependency: the demo must run on a bare venv)."""

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_runtime.functions import Invocation


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return (
            indent
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )

    rule = indent + "  ".join("-" * width for width in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def print_invocation(function: str, invocation: "Invocation") -> int:
    """A local invoke's outcome, as `sam local invoke` shows it: the function's logs and a
    summary on stderr, its response (JSON) on stdout; returns the exit code (1: it failed)."""
    sys.stderr.write(invocation.logs)
    if not invocation.ok:
        sys.stderr.write(f"\n{function} failed: {invocation.error}\n")
        return 1
    print(json.dumps(invocation.response, indent=2))
    sys.stderr.write(
        f"\n{function}: {invocation.duration_ms:.0f} ms, "
        f"{invocation.records} records, {invocation.failed_records} failed\n"
    )
    return 0
