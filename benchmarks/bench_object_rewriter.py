"""object_rewriter: one 100 MiB JSON Lines object rewritten by the default rule (file_contents
removed), ours vs the source post's function, each in a fresh interpreter as a Lambda sandbox
sees it.

- ``object_rewriter.peak_mb_100mib_object``: peak resident memory (VmHWM) of the process that
  imports what it needs and rewrites the object from a file to a file. Ours streams: each line
  is read, rewritten and written out (``object_rewriter.rewrite.rewrite_object``) into the
  spooled temporary file the function puts from (``service.SPOOL_MEMORY_BYTES`` in memory, the
  rest on /tmp), so its memory is bounded whatever the object's size. Baseline, same file,
  same run: the post's ``"\\n".join(map(json.dumps, map(clean, map(json.loads, lines))))``,
  which builds the whole new object as one string (then bytes) before its ``put``.
- ``object_rewriter.seconds_100mib_object``: wall time of the same rewrite, each side's median
  of 3 runs (S3 transfer excluded on both sides). Ours parses numbers as decimals and keeps
  lines without the field byte for byte; the post's loses float digits.

The object: 200,000 lines of ~530 bytes (an id, a name, an email, a nested object with a float,
a price, a 400-character description and a short base64 ``file_contents``): removing a field
keeps most of each line, as removing sensitive values from records does. Written once into the
temp directory and kept for later runs.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from benchmarks.results import ROOT, BenchResult, peak_resident_mb

LINES: Final = 200_000
RUNS: Final = 3
RULE: Final = {
    "name": "drop-file-contents",
    "prefix": "dataset/",
    "after_days": 30,
    "action": "remove",
    "fields": ["file_contents"],
}
KEY: Final = "dataset/uploads/mock_uploaded_data.json"


def object_path() -> Path:
    path = Path(tempfile.gettempdir()) / f"datalake-events-bench-rewrite-v2-{LINES}.jsonl"
    if not path.exists():
        description = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 7
        with path.open("w", encoding="utf-8") as out:
            for n in range(LINES):
                row = {
                    "id": n,
                    "name": f"user-{n:07d}",
                    "email": f"user{n}@example.com",
                    "profile": {"pages": n % 17, "tags": ["a", "b"], "score": 0.25 + n % 7},
                    "price": 19.99,
                    "description": description,
                    "file_contents": "JVBERi0xLjcKJcfsj6IKNSAwIG9iago=",
                }
                out.write(json.dumps(row) + "\n")
    return path


def _ours(path: str) -> dict[str, float]:
    sys.path[:0] = [str(ROOT / "functions" / "object_rewriter"), str(ROOT / "layers" / "shared")]
    from datalake_shared.object_tasks import ObjectTaskRule  # noqa: PLC0415
    from object_rewriter.rewrite import rewrite_object  # noqa: PLC0415
    from object_rewriter.service import SPOOL_MEMORY_BYTES  # noqa: PLC0415

    rule = ObjectTaskRule.model_validate(RULE)
    start = time.perf_counter()
    with (
        open(path, "rb") as source,
        tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, mode="w+b") as target,
    ):
        rewrite_object(KEY, source, target, rule)
        written = target.tell()
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_resident_mb(), "bytes": written}


def _post(path: str) -> dict[str, float]:
    def clean(document: dict[str, object]) -> dict[str, object]:
        document["file_contents"] = ""  # the post's modify_json (it blanks the field)
        return document

    start = time.perf_counter()
    with open(path, "rb") as source:
        lines = iter(source.readline, b"")  # the post reads Body.iter_lines()
        updated = "\n".join(map(json.dumps, map(clean, map(json.loads, lines))))
    body = updated.encode()  # what its put sends
    return {
        "seconds": time.perf_counter() - start,
        "peak_mb": peak_resident_mb(),
        "bytes": len(body),
    }


def _measure(side: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_object_rewriter", side, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    answer: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return answer


def run() -> list[BenchResult]:
    path = object_path()
    print(f"object_rewriter: {path.name} ({path.stat().st_size / 2**20:.0f} MiB)")
    ours, post = [], []
    for _ in range(RUNS):  # interleaved: both sides see the same machine load
        ours.append(_measure("ours", path))
        post.append(_measure("post", path))
    return [
        BenchResult(
            name="object_rewriter.peak_mb_100mib_object",
            value=max(r["peak_mb"] for r in ours),
            unit="MB",
            better="lower",
            baseline=max(r["peak_mb"] for r in post),
        ),
        BenchResult(
            name="object_rewriter.seconds_100mib_object",
            value=statistics.median(r["seconds"] for r in ours),
            unit="s",
            better="lower",
            baseline=statistics.median(r["seconds"] for r in post),
        ),
    ]


if __name__ == "__main__":
    SIDES = {"ours": _ours, "post": _post}
    print(json.dumps(SIDES[sys.argv[1]](sys.argv[2])))
