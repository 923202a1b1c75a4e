"""Where the real engines live (scripts/install-engines puts them there) and how to start them.

The engine tier and the local runtime's switches use AWS's DynamoDB Local and local Spark 3.5 +
Iceberg 1.10 instead of moto and DuckDB: stricter stand-ins that refuse what AWS refuses.
Nothing here installs anything; a missing engine raises EngineMissingError saying what to run.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Final

from local_runtime.lifecycle import Service, close_quietly, wait_or_kill

ENGINES_HOME_VARIABLE: Final = "ENGINES_HOME"
DYNAMODB_LOCAL_VERSION: Final = "3.3.1"
SPARK_RELEASE: Final = "spark-3.5.6-iceberg-1.10.2"
ICEBERG_RUNTIME_JAR: Final = "iceberg-spark-runtime-3.5_2.12-1.10.2.jar"
_INSTALL_HINT: Final = "run scripts/install-engines (make test-engines does)"


class EngineMissingError(RuntimeError):
    """An engine of the tier is not installed here (or cannot run: no Java)."""


def engines_home() -> Path:
    configured = os.environ.get(ENGINES_HOME_VARIABLE)
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "datalake-events" / "engines"


def _installed(directory: Path, what: str) -> Path:
    if not (directory / ".installed").is_file():
        raise EngineMissingError(f"{what} is not installed in {directory}: {_INSTALL_HINT}")
    return directory


def dynamodb_local_dir() -> Path:
    return _installed(engines_home() / f"dynamodb-local-{DYNAMODB_LOCAL_VERSION}", "DynamoDB Local")


def spark_dir() -> Path:
    return _installed(engines_home() / SPARK_RELEASE, "Spark + Iceberg")


def spark_python() -> Path:
    """The Python 3.11 (Glue 5's) of the Spark venv."""
    return spark_dir() / "venv" / "bin" / "python"


def spark_jars() -> list[Path]:
    """The Iceberg runtime and the shaded Jackson it needs, for ``spark.jars``."""
    return sorted((spark_dir() / "jars").glob("*.jar"))


def asl_validator() -> Path:
    binary = engines_home() / "node-asl" / "node_modules" / ".bin" / "asl-validator"
    if not binary.is_file():
        raise EngineMissingError(f"asl-validator is not installed ({binary}): {_INSTALL_HINT}")
    return binary


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise EngineMissingError("java (>= 17) is not on PATH")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DynamoDbLocal(Service):
    """AWS's DynamoDB Local, in memory, on a free loopback port, for as long as it is open.

    with DynamoDbLocal() as local:
        boto3.client("dynamodb", endpoint_url=local.endpoint_url)
    """

    def __init__(self, start_timeout_s: float = 60.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        if self._process is None:
            raise RuntimeError("DynamoDB Local is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        directory = dynamodb_local_dir()
        self.port = free_port()
        # A file, not a pipe: nobody reads it while the server runs, and a full pipe would block it.
        self._log = tempfile.NamedTemporaryFile(prefix="dynamodb-local-", suffix=".log")  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                java(),
                f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
                "-jar",
                str(directory / "DynamoDBLocal.jar"),
                "-inMemory",
                "-sharedDb",  # one database whatever the credentials: moto's tasks sign with others
                "-disableTelemetry",
                "-port",
                str(self.port),
            ],
            cwd=directory,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = Path(self._log.name).read_text(errors="replace") if self._log else ""
                raise EngineMissingError(f"DynamoDB Local exited at start: {error[-2000:]}")
            try:
                # Any HTTP answer (DynamoDB says 400 to a bare GET) means it listens.
                urllib.request.urlopen(self.endpoint_url, timeout=1)  # noqa: S310 - loopback
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
                continue
            return
        raise EngineMissingError(f"DynamoDB Local did not answer within {self.start_timeout_s} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        wait_or_kill(process, timeout_s=10)
        close_quietly(self._log)
        self._log = None
