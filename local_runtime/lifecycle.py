"""What ``with`` does for the runtime's long-lived parts, written once.

A ``Service`` (a server, a worker, the runtime itself) starts on entry and stops on exit; a
``Closeable`` (a connection) is ready when made and closes on exit.
"""

import contextlib
import subprocess
from typing import IO, Any, Self


class Service:
    """``with service:`` starts it, hands it over, and stops it on the way out."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class Closeable:
    """``with resource:`` hands it over as it is and closes it on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def wait_or_kill(process: "subprocess.Popen[bytes]", timeout_s: float) -> None:
    """Waits for a process asked to end; kills it past the timeout."""
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def close_quietly(file: IO[Any] | None) -> None:
    """Closes a log file; a failure to close it must not hide why a process stopped."""
    if file is not None:
        with contextlib.suppress(OSError):
            file.close()
