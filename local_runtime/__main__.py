"""python -m local_runtime invoke FUNCTION EVENT_FILE  [--template T] [--dynamodb ...]

`sam local invoke` without Docker: the template (template.yaml here by default) deployed into
moto, one function invoked with one event. DynamoDB is served by moto unless --dynamodb or
LOCAL_DYNAMODB=dynamodb-local says DynamoDB Local. The project's own commands (the demo, an
invoke with its Glue job wired in) are ``python -m dev``.
"""

import argparse
import json
import sys
from pathlib import Path

from local_runtime.bridges.dynamodb_backend import BACKEND_NAMES, LOCAL_DYNAMODB_VARIABLE
from local_runtime.report import print_invocation
from local_runtime.runtime import DEFAULT_TEMPLATE, LocalRuntime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    invoke_parser = commands.add_parser("invoke", help="invoke one function with one event")
    invoke_parser.add_argument("function", help="logical id in the template")
    invoke_parser.add_argument("event", type=Path, help="event file (JSON)")
    invoke_parser.add_argument(
        "--template", type=Path, default=DEFAULT_TEMPLATE, help="the SAM template"
    )
    invoke_parser.add_argument(
        "--dynamodb",
        choices=BACKEND_NAMES,
        help=f"engine serving DynamoDB (default: ${LOCAL_DYNAMODB_VARIABLE}, else moto)",
    )
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text())
    with LocalRuntime(args.template, dynamodb=args.dynamodb) as runtime:
        invocation = runtime.invoke(args.function, event)
    return print_invocation(args.function, invocation)


if __name__ == "__main__":
    sys.exit(main())
