"""python -m dev demo | invoke FUNCTION EVENT_FILE  [--dynamodb moto|dynamodb-local]
              | clean-workbook FILE [--spec JSON]

The project's template.yaml on the local runtime, with the project's wiring (dev.runtime).
DynamoDB is served by moto unless --dynamodb or LOCAL_DYNAMODB=dynamodb-local says DynamoDB Local.
"""

import argparse
import json
import sys
from pathlib import Path

from dev.clean_workbook import clean_local_workbook, cleaning_spec, print_outcome
from dev.demo.run import DEMO_WORKDIR, run_demo
from dev.glue_merge.job import GLUE_ENGINE_VARIABLE, GLUE_ENGINES
from dev.runtime import project_runtime
from local_runtime.bridges.dynamodb_backend import BACKEND_NAMES, LOCAL_DYNAMODB_VARIABLE
from local_runtime.report import print_invocation


def invoke(
    function: str, event_file: Path, config: Path | None = None, dynamodb: str | None = None
) -> int:
    """`sam local invoke` without Docker: the deployed-into-moto function, one event; with
    ``config``, a pipeline config is uploaded (and applied by the config loader) first."""
    event = json.loads(event_file.read_text())
    with project_runtime(dynamodb=dynamodb) as runtime:
        if config is not None:
            runtime.s3.put_object(
                Bucket=runtime.outputs["ConfigBucketName"],
                Key=f"config/{config.name}",
                Body=config.read_bytes(),
            )
            runtime.settle()
        invocation = runtime.invoke(function, event)
    return print_invocation(function, invocation)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="run the event graph on moto, print what happened"
    )
    demo_parser.add_argument(
        "--workdir", type=Path, default=DEMO_WORKDIR, help="where the local lake is kept (.local)"
    )
    invoke_parser = commands.add_parser("invoke", help="invoke one function with one event")
    invoke_parser.add_argument(
        "function", help="logical id in template.yaml, e.g. FileTrackerFunction"
    )
    invoke_parser.add_argument(
        "event", type=Path, help="event file, e.g. events/file_tracker/sqs_batch.json"
    )
    invoke_parser.add_argument(
        "--config", type=Path, help="pipeline config to load first, e.g. config/pipeline.yaml"
    )
    for command in (demo_parser, invoke_parser):
        command.add_argument(
            "--dynamodb",
            choices=BACKEND_NAMES,
            help=f"engine serving DynamoDB (default: ${LOCAL_DYNAMODB_VARIABLE}, else moto)",
        )
    demo_parser.add_argument(
        "--glue-engine",
        choices=GLUE_ENGINES,
        help=f"engine of the Glue job (default: ${GLUE_ENGINE_VARIABLE}, else duckdb)",
    )
    workbook_parser = commands.add_parser(
        "clean-workbook", help="clean a local workbook as the Excel cleaner does, no AWS"
    )
    workbook_parser.add_argument("file", type=Path, help="the workbook (.xlsx, .xls, .ods...)")
    workbook_parser.add_argument(
        "--spec", help='cleaning spec as JSON or a JSON file, e.g. {"header_row": 3}'
    )
    args = parser.parse_args(argv)
    if args.command == "clean-workbook":
        result, target = clean_local_workbook(args.file, cleaning_spec(args.spec))
        return print_outcome(result, target, sys.stdout)
    if args.command == "demo":
        return run_demo(args.workdir.resolve(), args.dynamodb, args.glue_engine)
    return invoke(args.function, args.event, args.config, args.dynamodb)
