"""moto logs what it skips or sees fail; the runtime keeps those lines instead of printing them."""

import logging
from collections.abc import Callable


class _KeptLines(logging.Handler):
    def __init__(self, lines: list[str], level: int) -> None:
        super().__init__(level)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def keep_log(logger_name: str, lines: list[str], level: int = logging.DEBUG) -> Callable[[], None]:
    """Sends the logger's records (from ``level`` up) to ``lines`` only; returns the undo."""
    logger = logging.getLogger(logger_name)
    handler = _KeptLines(lines, level)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False

    def restore() -> None:
        logger.removeHandler(handler)
        logger.propagate = propagate

    return restore
