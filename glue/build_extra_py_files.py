"""Zips the glue/cdc_merge package for the job's ``--extra-py-files``.

Usage: python glue/build_extra_py_files.py OUTPUT.zip. The archive holds ``cdc_merge/*.py`` (and
nothing else: no caches, no tool configuration) with fixed timestamps, so the same sources give
byte-identical archives. Glue puts the zip on sys.path, where ``import cdc_merge`` finds it and
the ScriptLocation (glue/cdc_merge/main.py) imports the rest from it.
"""

import sys
import zipfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "cdc_merge"
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def package_files(package: Path = PACKAGE) -> list[Path]:
    return sorted(path for path in package.rglob("*.py") if "__pycache__" not in path.parts)


def build(output: Path, package: Path = PACKAGE) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in package_files(package):
            info = zipfile.ZipInfo(path.relative_to(package.parent).as_posix(), _FIXED_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return output


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python glue/build_extra_py_files.py OUTPUT.zip")
    print(f"wrote {build(Path(sys.argv[1]))}")
