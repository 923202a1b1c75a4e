"""SparkWorkerEngine: the merge job's SqlEngine on real Spark 3.5 + Iceberg 1.10, from Python 3.13.

pyspark 3.5 cannot run in this interpreter, so the engine is a client of spark_worker.py (beside
this module), which runs the job's own SparkEngine under the Spark venv's Python 3.11 and
answers over JSON lines. One worker (one JVM) serves any number of catalogs (add_catalog): the
engine tier starts one per test session and gives each test a fresh catalog and warehouse.

Staged files are local files: ``resolve_path`` maps a staging path (an s3:// URI) to one, as for
DuckDbEngine, and a failure names the URI again, not the local copy.
"""

import contextlib
import itertools
import json
import os
import queue
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

from cdc_merge.engine import SqlEngine, StagingFile
from cdc_merge.errors import ErrorSummary, SummarizedError
from cdc_merge.table_spec import TableSpec
from dev.glue_merge.spark_worker import (
    READY,
    SHUTDOWN,
    decode_rows,
    encode_files,
    encode_spec,
)
from dev.paths import project_paths
from local_runtime.lifecycle import Service, close_quietly, wait_or_kill
from local_runtime.real_engines import EngineMissingError, spark_jars, spark_python

WORKER_SCRIPT: Final = Path(__file__).resolve().parent / "spark_worker.py"
_LOG_TAIL_CHARS: Final = 4_000
_EOF: Final = object()


class SparkWorkerError(SummarizedError):
    """A request failed in the worker. ``str()`` is the worker's full error (for a Spark failure,
    the Java stack, as the job sees it on Glue); ``summary`` is its short summary."""


class SparkWorkerEngine(SqlEngine, Service):
    """The worker process for as long as the engine is open.

    with SparkWorkerEngine(resolve_path=bucket.resolve) as engine:
        engine.add_catalog("glue_catalog", "/tmp/warehouse")
        process_batch(batch, engine, ..., catalog="glue_catalog")
    """

    def __init__(
        self,
        resolve_path: Callable[[str], str | Path] = lambda path: path,
        *,
        start_timeout_s: float = 180.0,
        request_timeout_s: float = 900.0,
        spark_conf: Mapping[str, str] | None = None,
    ) -> None:
        self.resolve_path = resolve_path
        self.spark_conf = dict(spark_conf or {})
        self.start_timeout_s = start_timeout_s
        self.request_timeout_s = request_timeout_s
        self.spark_version = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._answers: queue.Queue[object] = queue.Queue()
        self._ids = itertools.count(1)
        self._uris: dict[str, str] = {}  # local copy -> the path the job staged

    @property
    def log_path(self) -> Path | None:
        """Where the worker's stderr (Spark's and the JVM's logging) goes."""
        return Path(self._log.name) if self._log is not None else None

    def start(self) -> None:
        python, jars = spark_python(), [str(jar) for jar in spark_jars()]
        if not python.is_file():
            raise EngineMissingError(f"no Spark venv python at {python}")
        # A file, not a pipe: nobody reads the log while the worker runs.
        self._log = tempfile.NamedTemporaryFile(prefix="spark-worker-", suffix=".log")  # noqa: SIM115
        # Not this process's path (3.13 packages mean nothing to the 3.11 worker): the project's
        # code folders, where the job's package and what it imports from the layer are.
        environment = {
            **os.environ,
            "TZ": "UTC",
            "PYSPARK_PYTHON": str(python),
            "PYTHONPATH": os.pathsep.join(str(path) for path in project_paths()),
        }
        self._process = subprocess.Popen(
            [
                str(python),
                str(WORKER_SCRIPT),
                "--jars",
                ",".join(jars),
                *(f"--conf={key}={value}" for key, value in self.spark_conf.items()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=tempfile.gettempdir(),
            env=environment,
        )
        stdout = self._process.stdout
        assert stdout is not None
        threading.Thread(target=self._read_answers, args=(stdout,), daemon=True).start()
        try:
            ready = self._next_answer(self.start_timeout_s, "start")
            if not isinstance(ready, dict) or not ready.get(READY):
                raise EngineMissingError(f"the Spark worker did not start: {ready!r}")
            self.spark_version = str(ready.get("spark", ""))
        except BaseException:
            self.close()
            raise

    def _read_answers(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self._answers.put(json.loads(line))
        self._answers.put(_EOF)

    def _next_answer(self, timeout_s: float, what: str) -> object:
        try:
            answer = self._answers.get(timeout=timeout_s)
        except queue.Empty:
            raise TimeoutError(f"the Spark worker did not answer {what} in {timeout_s} s") from None
        if answer is _EOF:
            raise EngineMissingError(f"the Spark worker exited during {what}: {self._log_tail()}")
        return answer

    def _log_tail(self) -> str:
        path = self.log_path
        return path.read_text(errors="replace")[-_LOG_TAIL_CHARS:] if path else ""

    def stop(self) -> None:
        self.close()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(OSError, ValueError):
                if process.poll() is None and process.stdin is not None:
                    process.stdin.write(json.dumps({"id": 0, "method": SHUTDOWN}).encode() + b"\n")
                    process.stdin.close()
            wait_or_kill(process, timeout_s=60)
        close_quietly(self._log)
        self._log = None

    def _call(self, method: str, **params: Any) -> Any:
        process = self._process
        if process is None or process.stdin is None:
            raise RuntimeError("the Spark worker is not running")
        identifier = next(self._ids)
        request = {"id": identifier, "method": method, "params": params}
        process.stdin.write(json.dumps(request).encode() + b"\n")
        process.stdin.flush()
        answer = self._next_answer(self.request_timeout_s, method)
        if not isinstance(answer, dict) or answer.get("id") != identifier:
            raise RuntimeError(f"the Spark worker answered out of turn: {answer!r}")
        if "error" in answer:
            raise self._error(answer["error"])
        return answer.get("result")

    def _error(self, error: dict[str, Any]) -> SparkWorkerError:
        summary = ErrorSummary.from_json(error.get("summary"))
        text = self._as_staged(str(error.get("text", "")))
        summary = ErrorSummary(
            summary.kind,
            self._as_staged(summary.message),
            self._uris.get(summary.file or "", summary.file),
            summary.column,
        )
        failure = SparkWorkerError(text or summary.text(), summary)
        failure.add_note("in the Spark worker:\n" + self._as_staged(str(error.get("traceback"))))
        return failure

    def _as_staged(self, text: str) -> str:
        """The text with local copies named by the paths the job staged (Spark writes them
        as file: URIs too)."""
        for local, uri in self._uris.items():
            text = text.replace(f"file://{local}", uri).replace(f"file:{local}", uri)
            text = text.replace(local, uri)
        return text

    # --- SqlEngine ---------------------------------------------------------------------------

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return decode_rows(self._call("execute", sql=sql))

    def create_staging_view(self, name: str, files: Sequence[StagingFile], spec: TableSpec) -> None:
        local = []
        for file in files:
            path = str(self.resolve_path(file.path))
            self._uris[path] = file.path
            local.append(StagingFile(path, file.kind, file.file_order))
        self._call(
            "create_staging_view", name=name, files=encode_files(local), spec=encode_spec(spec)
        )

    def materialize_view(self, name: str, select_sql: str) -> None:
        self._call("materialize_view", name=name, select_sql=select_sql)

    def drop_view(self, name: str) -> None:
        self._call("drop_view", name=name)

    # --- for tests and the local runtime -----------------------------------------------------

    def add_catalog(self, name: str, warehouse_dir: str | Path) -> None:
        """An Iceberg catalog named ``name`` on a local directory."""
        self._call("add_catalog", name=name, warehouse_dir=str(warehouse_dir))

    def table_rows(self, catalog: str, database: str, table: str) -> list[tuple[Any, ...]]:
        """Every row of a target table; timestamps as UTC datetimes (as DuckDbEngine's)."""
        return decode_rows(
            self._call("table_rows", catalog=catalog, database=database, table=table)
        )
