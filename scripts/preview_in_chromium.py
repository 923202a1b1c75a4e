"""Opens the dashboards' preview (``make demo`` writes .local/dashboards.html) in headless Chromium,
Debian's ``chromium`` (scripts/install-engines installs it): checks that every visual drew all its
points, then takes a screenshot.

The page is opened from file:// with every host unresolvable, so it renders offline or not at
all. A visual's points are what its ``<figure data-visual=... data-points=...>`` promises; its
marks are what plotly drew into the DOM: bars and line markers (``point``), pie slices
(``slice``), table rows (cells per column, less the header). The engine tier's
tests/integration/engines/test_dashboard_preview_in_chromium.py uses the same functions.

Usage: python scripts/preview_in_chromium.py [PAGE] [--screenshot PNG] [--height PX]
       (PAGE: .local/dashboards.html; exits 1 when a visual drew nothing or too little)
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
DEFAULT_PAGE: Final = ROOT / ".local" / "dashboards.html"
SCREENSHOT_WIDTH_PX: Final = 1400
_TIMEOUT_S: Final = 120
# Headless, nothing of the profile's background work, and no host resolves: offline or broken.
_FLAGS: Final = (
    "--headless",
    "--no-sandbox",  # as root in CI's container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=10000",  # virtual: plotly's drawing settles without waiting for real
)


class ChromiumMissingError(RuntimeError):
    """Debian's chromium is not installed here."""


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        raise ChromiumMissingError(
            "chromium (Debian's package) is not on PATH: run scripts/install-engines as root, "
            "or apt-get install chromium"
        )
    return found


def _run(page: Path, *arguments: str) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(  # noqa: S603 - our own arguments, no shell
            [
                chromium(),
                *_FLAGS,
                f"--user-data-dir={profile}",
                *arguments,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def dump_dom(page: Path) -> str:
    """The page's DOM after its scripts ran, as Chromium serialises it."""
    return _run(page, "--dump-dom")


def screenshot(page: Path, png: Path, height_px: int) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        page,
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={SCREENSHOT_WIDTH_PX},{height_px}",
        f"--screenshot={png.resolve()}",
    )
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png


@dataclass(frozen=True)
class Marks:
    chart: str
    points: int  # what the page says the visual draws
    drawn: int  # what plotly drew

    @property
    def complete(self) -> bool:
        return self.points > 0 and self.drawn == self.points


class _FigureMarks(HTMLParser):
    """Counts the class names used inside each <figure data-visual> (figures do not nest)."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, tuple[str, int, Counter[str]]] = {}
        self._current: Counter[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        visual = attributes.get("data-visual")
        if tag == "figure" and visual:
            self._current = Counter()
            chart, points = attributes.get("data-chart") or "", attributes.get("data-points")
            self.figures[visual] = (chart, int(points or 0), self._current)
        elif self._current is not None:
            self._current.update((attributes.get("class") or "").split())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._current = None


def _drawn(chart: str, classes: Counter[str]) -> int:
    if chart == "pie":
        return classes["slice"]
    if chart == "table":  # plotly draws each column's cells, the header's included
        columns = classes["y-column"]
        return classes["column-cell"] // columns - 1 if columns else 0
    return classes["point"]  # a bar, or a line's marker


def drawn_marks(dom: str) -> dict[str, Marks]:
    """Each visual (``<dashboard>/<visual>``) with the points it promises and the marks drawn."""
    parser = _FigureMarks()
    parser.feed(dom)
    parser.close()
    return {
        visual: Marks(chart, points, _drawn(chart, classes))
        for visual, (chart, points, classes) in parser.figures.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", nargs="?", type=Path, default=DEFAULT_PAGE)
    parser.add_argument("--screenshot", type=Path, help="write a PNG of the page here")
    parser.add_argument("--height", type=int, default=2600, help="the screenshot's height (px)")
    args = parser.parse_args(argv)
    if not args.page.is_file():
        print(f"{args.page} not found: run make demo first", file=sys.stderr)
        return 1
    marks = drawn_marks(dump_dom(args.page))
    incomplete = {visual: m for visual, m in marks.items() if not m.complete}
    for visual, m in marks.items():
        print(f"{visual:50} {m.chart:12} {m.drawn} of {m.points} drawn")
    if incomplete or not marks:
        print(f"not drawn completely: {', '.join(incomplete) or 'no visual'}", file=sys.stderr)
        return 1
    if args.screenshot:
        print(f"screenshot: {screenshot(args.page, args.screenshot, args.height)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
