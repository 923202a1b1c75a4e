"""Benchmark results: one entry per measurement, printed as a table and written as JSON."""

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BenchResult:
    name: str
    value: float
    unit: str
    better: Literal["lower", "higher"]
    baseline: float | None = None

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        if self.baseline is None:
            del data["baseline"]
        return data

    def ratio(self) -> str:
        """How many times better than the baseline ("3.2x"), or "" without one."""
        if not self.baseline or not self.value:
            return ""
        factor = (
            self.baseline / self.value if self.better == "lower" else self.value / self.baseline
        )
        return f"{factor:.1f}x"


def peak_resident_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries the forking
    parent's peak into a child's ru_maxrss across exec, so every child would report at least
    the (large) benchmark runner's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    import resource  # noqa: PLC0415 - fallback where /proc is missing (not Linux)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(action: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of several runs of ``action``."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


@dataclass(frozen=True)
class ImportTimes:
    """Medians over fresh processes of one import: wall clock and the process's CPU time."""

    wall_ms: float
    cpu_ms: float

    @property
    def contended(self) -> bool:
        """Whether other processes held the CPU: the wall time then overstates the import."""
        return self.wall_ms > 1.25 * self.cpu_ms


def cold_import_times(
    statement: str,
    extra_paths: Sequence[Path] = (),
    repeat: int = 7,
    env: dict[str, str] | None = None,
    *,
    flags: Sequence[str] = (),
    cwd: Path | None = None,
    setup: str = "",
) -> ImportTimes:
    """How long a fresh interpreter takes to run ``statement`` (an import), after ``setup``.

    ``flags`` go to the interpreter (e.g. ``-I -S`` to leave out every site-packages). One
    unmeasured run first, so each measured one starts with the files in the page cache, as a
    Lambda sandbox reading its unzipped package does.
    """
    paths = [str(p) for p in extra_paths]
    code = (
        "import sys, time\n"
        f"sys.path[:0] = {paths!r}\n"
        f"{setup}\n"
        "t, c = time.perf_counter(), time.process_time()\n"
        f"{statement}\n"
        "print((time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000)\n"
    )
    command = [sys.executable, *flags, "-c", code]
    subprocess.run(command, capture_output=True, check=True, env=env, cwd=cwd)
    walls, cpus = [], []
    for _ in range(repeat):
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=cwd)
        wall, cpu = out.stdout.strip().splitlines()[-1].split()
        walls.append(float(wall))
        cpus.append(float(cpu))
    return ImportTimes(statistics.median(walls), statistics.median(cpus))


def print_table(results: Sequence[BenchResult]) -> None:
    header = f"{'benchmark':<48} {'value':>12} {'unit':<10} {'baseline':>12} {'vs naive':>9}"
    print(header)
    print("-" * len(header))
    for r in results:
        baseline = f"{r.baseline:,.2f}" if r.baseline is not None else ""
        print(f"{r.name:<48} {r.value:>12,.2f} {r.unit:<10} {baseline:>12} {r.ratio():>9}")


def merged_with_previous(results: Sequence[BenchResult], path: Path) -> list[BenchResult]:
    """The previous results file's entries, each replaced by this run's entry of that name."""
    fresh = {result.name: result for result in results}
    previous = json.loads(path.read_text()) if path.is_file() else []
    merged = [fresh.pop(entry["name"], BenchResult(**entry)) for entry in previous]
    return [*merged, *fresh.values()]


def write_json(results: Sequence[BenchResult], path: Path) -> None:
    path.write_text(json.dumps([r.as_json() for r in results], indent=2) + "\n")
