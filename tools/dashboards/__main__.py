"""``make dashboards``: rewrite template.yaml's generated dashboard blocks.

Usage: python -m tools.dashboards            rewrite the blocks
       python -m tools.dashboards --check    exit 1 if a block differs from what would be written
"""

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from samcli.yamlhelper import yaml_parse

from tools.dashboards import cloudwatch, quicksight, template_regions
from tools.dashboards.definitions import ROOT

TEMPLATE: Final = ROOT / "template.yaml"
type ResourcesOf = Callable[[Mapping[str, Any]], dict[str, Any]]
# Block name (its marker and its module) -> the resources it holds, from the parsed template.
# No generator reads a block's resources (cloudwatch charts functions, queues, alarms, machines
# and Glue jobs; quicksight reads named queries), so one parse serves every block.
BLOCKS: Final[dict[str, ResourcesOf]] = {
    "cloudwatch": cloudwatch.resources,
    "quicksight": quicksight.resources,
}


def generated(template_text: str) -> str:
    """The template with every block as the generators write it now."""
    template = yaml_parse(template_text)
    text = template_text
    for name, resources_of in BLOCKS.items():
        text = template_regions.splice(text, name, template_regions.render(resources_of(template)))
    return text


def main(argv: list[str] | None = None, template_path: Path = TEMPLATE) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dashboards", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a block is out of date")
    args = parser.parse_args(argv)
    text = template_path.read_text(encoding="utf-8")
    expected = generated(text)
    if args.check:
        if expected != text:
            print(
                "template.yaml's dashboard blocks are stale: run make dashboards", file=sys.stderr
            )
            return 1
        return 0
    if expected != text:
        template_path.write_text(expected, encoding="utf-8")
        print("template.yaml: dashboard blocks rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
