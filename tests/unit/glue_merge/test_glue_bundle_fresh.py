"""The committed Glue script (the template's ScriptLocation, what `sam deploy` uploads) is the
bundle of glue/cdc_merge as it is now: a stale bundle fails here instead of deploying silently."""

import subprocess
import sys
from pathlib import Path
from typing import Any

from bundle_glue_job import DEFAULT_OUTPUT, STALE_MESSAGE, render

ROOT = Path(__file__).resolve().parents[3]


def test_the_template_deploys_the_committed_bundle(sam_template: dict[str, Any]) -> None:
    # Given the Glue job's script location (relative to template.yaml, as sam build resolves it)
    location = sam_template["Resources"]["CdcMergeJob"]["Properties"]["Command"]["ScriptLocation"]

    # Then it is the bundle the bundler writes, and that file is in the working tree
    assert ROOT / location == DEFAULT_OUTPUT
    assert DEFAULT_OUTPUT.is_file()


def test_the_committed_bundle_matches_the_package() -> None:
    # Given the bundle rebuilt in memory from glue/cdc_merge
    rebuilt = render()

    # Then the committed file is the same, byte for byte
    assert DEFAULT_OUTPUT.read_bytes() == rebuilt, STALE_MESSAGE


def _repository_copy(root: Path) -> Path:
    """A bundler in a repository of its own, with a one-module package and a stale bundle."""
    (root / "scripts").mkdir()
    bundler = root / "scripts" / "bundle_glue_job.py"
    bundler.write_bytes((ROOT / "scripts" / "bundle_glue_job.py").read_bytes())
    (root / "glue" / "cdc_merge").mkdir(parents=True)
    (root / "glue" / "cdc_merge" / "__init__.py").write_text('"""v2"""\n')
    (root / "glue" / "cdc_merge_job.py").write_text("# built from v1\n")
    return bundler


def _run(bundler: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(bundler), *arguments], capture_output=True, text=True, check=False
    )


def test_check_mode_fails_on_a_stale_bundle(tmp_path: Path) -> None:
    # Given a repository whose package changed after its bundle was built
    bundler = _repository_copy(tmp_path)

    # When the bundle is checked
    result = _run(bundler, "--check")

    # Then the check fails and says what to run
    assert result.returncode == 1
    assert "run make glue-bundle" in result.stderr


def test_check_mode_passes_once_the_bundle_is_rebuilt(tmp_path: Path) -> None:
    # Given the same repository after `make glue-bundle`
    bundler = _repository_copy(tmp_path)
    assert _run(bundler).returncode == 0

    # When the bundle is checked / Then it is fresh
    assert _run(bundler, "--check").returncode == 0
