"""Pinned requirements (``name==version`` lines) as a mapping, names normalized as pip does."""

from pathlib import Path


def pins(path: Path) -> dict[str, str]:
    """Each pinned package of a requirements or constraints file: its normalized name, its version.
    pip freeze writes cfn_lint_serverless for cfn-lint-serverless, so names compare normalized."""
    lines = path.read_text().splitlines()
    pairs = (line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    return {name.lower().replace("_", "-"): version for name, version in pairs}
