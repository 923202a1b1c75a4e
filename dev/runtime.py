"""The project's local runtime: template.yaml on local_runtime, with the project's wiring.

    with project_runtime() as runtime:   # as LocalRuntime, plus the Glue job's local runner
        ...

What the project adds to the generic runtime is the local runner of its Glue job (glue_merge),
by the job's ScriptLocation; ``glue_engine`` picks its engine, "duckdb" or "spark" (default:
LOCAL_GLUE_ENGINE, else duckdb).
"""

from pathlib import Path
from typing import Final

from dev.glue_merge.job import local_glue_jobs
from dev.paths import ROOT
from local_runtime import LocalRuntime
from local_runtime.bridges.dynamodb_backend import DynamoDbBackend

PROJECT_TEMPLATE: Final = ROOT / "template.yaml"
PROJECT_STACK_NAME: Final = "datalake-events-local"


def project_runtime(
    template_path: Path = PROJECT_TEMPLATE,
    parameters: dict[str, str] | None = None,
    stack_name: str = PROJECT_STACK_NAME,
    workdir: Path | None = None,
    dynamodb: str | DynamoDbBackend | None = None,
    *,
    glue_engine: str | None = None,
) -> LocalRuntime:
    """A LocalRuntime (same arguments) that runs the project's Glue job on ``glue_engine``."""
    return LocalRuntime(
        template_path,
        parameters,
        stack_name,
        workdir,
        dynamodb,
        glue_jobs=local_glue_jobs(glue_engine),
    )
