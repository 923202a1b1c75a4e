"""Glue job runs, executed locally.

moto's StartJobRun records a run and reports it SUCCEEDED without running anything. We let
moto record the run (and enforce MaxConcurrentRuns: a run in progress counts, so a Map asking
for more gets ConcurrentRunsExceededException, as on AWS), then run the job's local counterpart
in the calling thread and leave the run SUCCEEDED or FAILED with its error message.

A job's local counterpart is looked up by its ScriptLocation in the ``local_jobs`` the bridge is
given (``LocalRuntime(glue_jobs=...)``): the runtime runs no job code of its own.
"""

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_runtime.bridges import RuntimeServices
from local_runtime.emulated import GlueJob
from local_runtime.moto_adapter.hooks import GLUE_JOB_RUN_AS_DICT, GLUE_START_JOB_RUN, Patches
from local_runtime.service_events import glue_job_state_change

# (job definition, run arguments (defaults + run's), services) → None; raises when the run fails
LocalGlueJob = Callable[[GlueJob, dict[str, str], RuntimeServices], None]


@dataclass
class GlueRun:
    job: str
    run_id: str
    arguments: dict[str, str]
    state: str = "RUNNING"
    error: str | None = None
    log: list[str] = field(default_factory=list)


class GlueBridge:
    def __init__(self, local_jobs: dict[str, LocalGlueJob] | None = None) -> None:
        self.local_jobs: dict[str, LocalGlueJob] = dict(local_jobs or {})
        self.jobs: dict[str, GlueJob] = {}
        self.runs: list[GlueRun] = []
        self.rejected: list[tuple[str, str]] = []  # (job, error) of StartJobRun calls refused
        self._services: RuntimeServices | None = None
        self._patches = Patches()
        # One local run at a time (one DuckDB file); runs still count as running meanwhile.
        self._run_lock = threading.Lock()

    def use(self, jobs: dict[str, GlueJob]) -> None:
        self.jobs = {job.name: job for job in jobs.values()}

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        bridge = self
        original_start: Any = GLUE_START_JOB_RUN.current()
        original_as_dict: Any = GLUE_JOB_RUN_AS_DICT.current()

        def start_job_run(job: Any, *args: Any, **kwargs: Any) -> str:
            try:
                run_id: str = original_start(job, *args, **kwargs)
            except Exception as error:
                bridge.rejected.append((job.name, f"{type(error).__name__}: {error}"))
                raise
            run = next(r for r in job.job_runs if r.job_run_id == run_id)
            run._transitions = []  # the state is ours to set, not moto's clock
            run.status = "RUNNING"
            bridge._run(job.name, run)
            return run_id

        def as_dict(run: Any) -> dict[str, Any]:
            described: dict[str, Any] = original_as_dict(run)
            error = getattr(run, "local_error_message", None)
            if error:
                described["ErrorMessage"] = error
            return described

        self._patches.replace(GLUE_START_JOB_RUN, start_job_run)
        self._patches.replace(GLUE_JOB_RUN_AS_DICT, as_dict)

    def uninstall(self) -> None:
        for local in self.local_jobs.values():
            close = getattr(local, "close", None)  # a job holding an engine (a Spark worker)
            if callable(close):
                close()
        self._patches.restore()

    def pump(self) -> int:
        return 0  # runs complete inside StartJobRun

    def _run(self, job_name: str, run: Any) -> None:
        assert self._services is not None
        # Glue adds the run's own arguments to the script's (getResolvedOptions reads them).
        arguments = {
            **dict(run.arguments or {}),
            "--JOB_NAME": job_name,
            "--JOB_RUN_ID": run.job_run_id,
        }
        record = GlueRun(job=job_name, run_id=run.job_run_id, arguments=arguments)
        self.runs.append(record)
        job = self.jobs.get(job_name)
        local = self.local_jobs.get(job.script_location) if job else None
        with self._run_lock:
            try:
                if job is None or local is None:
                    raise NotImplementedError(
                        f"no local counterpart for Glue job {job_name!r} "
                        f"({job.script_location if job else 'not from this template'})"
                    )
                local(job, arguments, self._services)
            except Exception as error:
                record.state, record.error = "FAILED", f"{type(error).__name__}: {error}"
                record.log.append(traceback.format_exc())
                run.local_error_message = record.error
                run.status = "FAILED"
                self._announce(record)
                return
        record.state = "SUCCEEDED"
        run.status = "SUCCEEDED"
        self._announce(record)

    def _announce(self, record: GlueRun) -> None:
        """Glue's own "Glue Job State Change" event, as AWS puts it on the default bus."""
        assert self._services is not None
        message = record.error or "Job run succeeded"
        glue_job_state_change(
            self._services.session, record.job, record.run_id, record.state, message
        )
