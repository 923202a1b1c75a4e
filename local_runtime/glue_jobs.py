"""Local counterparts of the template's Glue jobs, by ScriptLocation."""

from local_runtime.bridges.glue import LocalGlueJob


def local_glue_jobs() -> dict[str, LocalGlueJob]:
    return {}
