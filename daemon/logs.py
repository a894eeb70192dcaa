"""Structured logging through twisted.logger to stderr, as text or JSON lines.

The level and format can change at run time (SIGHUP), so the observer and the level
predicate are kept by a LogController instead of being fixed at start.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from twisted.logger import (
    FilteringLogObserver,
    ILogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    formatEvent,
    globalLogBeginner,
    textFileLogObserver,
)
from zope.interface import implementer

LEVELS = {"debug": LogLevel.debug, "info": LogLevel.info, "warn": LogLevel.warn,
          "error": LogLevel.error, "critical": LogLevel.critical}


@implementer(ILogObserver)
class JsonLinesObserver:
    """One JSON object per line: time, level, namespace, message, and the event's own fields."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        record: dict[str, Any] = {
            "time": datetime.fromtimestamp(event.get("log_time", 0), tz=UTC).isoformat(),
            "level": getattr(event.get("log_level"), "name", "info"),
            "namespace": event.get("log_namespace", "-"),
            "message": formatEvent(event),
        }
        for key, value in event.items():
            if not key.startswith(("log_", "_")) and key not in ("format", "message", "system",
                                                                   "time", "isError", "why"):
                record[key] = value
        failure = event.get("log_failure")
        if failure is not None:
            record["traceback"] = failure.getTraceback()
        self._stream.write(json.dumps(record, default=repr) + "\n")
        self._stream.flush()


@implementer(ILogObserver)
class LogController:
    """The one global observer: filters by level and writes in the chosen format."""

    def __init__(self, level: str = "info", fmt: str = "text", stream: IO[str] | None = None,
                 worker: int | None = None):
        self._stream = stream or sys.stderr
        self._worker = worker
        self._predicate = LogLevelFilterPredicate(defaultLogLevel=LEVELS[level])
        self.level = level
        self.format = fmt
        self._writer = self._make_writer(fmt)
        self._filter = FilteringLogObserver(self._write, [self._predicate])

    def _make_writer(self, fmt: str) -> ILogObserver:
        return JsonLinesObserver(self._stream) if fmt == "json" else textFileLogObserver(self._stream)

    def _write(self, event: dict[str, Any]) -> None:
        if self._worker is not None:
            # Which worker process wrote the line: a field in JSON, a tag in text.
            system = event.get("log_system") or "{}#{}".format(
                event.get("log_namespace", "-"), getattr(event.get("log_level"), "name", "-"))
            event = {**event, "worker": self._worker, "log_system": f"{system} worker={self._worker}"}
        self._writer(event)

    def __call__(self, event: dict[str, Any]) -> None:
        self._filter(event)

    def apply(self, level: str, fmt: str) -> list[str]:
        """Switch level and format; returns a description of what changed."""
        changes = []
        if level != self.level:
            changes.append(f"log.level {self.level} -> {level}")
            self._predicate.setLogLevelForNamespace("", LEVELS[level])
            self._set_stdlib_level(level)
            self.level = level
        if fmt != self.format:
            changes.append(f"log.format {self.format} -> {fmt}")
            self._writer = self._make_writer(fmt)
            self.format = fmt
        return changes

    def begin(self) -> None:
        globalLogBeginner.beginLoggingTo([self], redirectStandardIO=False)
        logging.getLogger().addHandler(StdlibBridge())
        self._set_stdlib_level(self.level)

    @staticmethod
    def _set_stdlib_level(level: str) -> None:
        """Stdlib loggers decide before formatting; keep them at the configured level so
        that disabled messages cost nothing. SQLAlchemy's statement log (with parameters)
        stays off whatever the level: it would put secrets in the log."""
        logging.getLogger().setLevel(STDLIB_NAMES[level])
        logging.getLogger("sqlalchemy").setLevel(max(STDLIB_NAMES[level], logging.WARNING))


STDLIB_NAMES = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
                "error": logging.ERROR, "critical": logging.CRITICAL}
STDLIB_LEVELS = {logging.DEBUG: LogLevel.debug, logging.INFO: LogLevel.info, logging.WARNING: LogLevel.warn,
                 logging.ERROR: LogLevel.error, logging.CRITICAL: LogLevel.critical}


class StdlibBridge(logging.Handler):
    """Sends the core's (and libraries') stdlib ``logging`` records into twisted.logger,
    so that every line goes out in the one configured format and level."""

    def emit(self, record: logging.LogRecord) -> None:
        level = STDLIB_LEVELS.get(record.levelno, LogLevel.info)
        Logger(namespace=record.name).emit(level, "{message}", message=record.getMessage())
