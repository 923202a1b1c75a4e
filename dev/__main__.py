"""python -m dev demo | invoke FUNCTION EVENT_FILE  [--dynamodb moto|dynamodb-local]

The project's template.yaml on the local runtime, with the project's wiring (dev.runtime).
DynamoDB is served by moto unless --dynamodb or LOCAL_DYNAMODB=dynamodb-local says DynamoDB Local.
"""

import sys

from dev.paths import put_project_on_path


def main(argv: list[str] | None = None) -> int:
    # The project's code paths first: the Glue job's package (glue/) is imported with the wiring.
    put_project_on_path()
    from dev.cli import main as run  # noqa: PLC0415 - needs the paths above

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
