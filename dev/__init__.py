"""The project's side of the local runtime: what local_runtime (a generic SAM-on-moto runtime)
does not know about this project, wired in by the callers that want it.

- ``runtime.project_runtime``: LocalRuntime on template.yaml with the project's Glue job;
- ``glue_merge``: that job (glue/cdc_merge) run locally, on DuckDB or Spark;
- ``demo``: `make demo`'s scenarios; ``python -m dev demo | invoke`` (``__main__``).

Importing it needs the project's code paths on sys.path (pytest's pythonpath gives them to the
tests; ``python -m dev`` puts them there itself: ``paths.put_project_on_path``).
"""
