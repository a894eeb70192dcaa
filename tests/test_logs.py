"""Log output: level filtering, JSON lines, and switching both at run time."""

from __future__ import annotations

import io
import json

from twisted.logger import Logger

from tesserad.daemon.logs import LogController


def emit(controller: LogController) -> None:
    log = Logger(namespace="tesserad.test", observer=controller)
    log.debug("debug {n}", n=1)
    log.info("info {n}", n=2)
    log.warn("warn {n}", n=3)


def test_level_filters_and_text_format() -> None:
    out = io.StringIO()
    emit(LogController("info", "text", out))
    text = out.getvalue()
    assert "info 2" in text and "warn 3" in text and "debug 1" not in text
    assert "[tesserad.test#info]" in text


def test_json_lines_carry_structured_fields() -> None:
    out = io.StringIO()
    emit(LogController("warn", "json", out))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "warn" and record["message"] == "warn 3" and record["n"] == 3
    assert record["namespace"] == "tesserad.test" and record["time"].endswith("+00:00")


def test_worker_processes_tag_their_lines() -> None:
    text, lines = io.StringIO(), io.StringIO()
    emit(LogController("warn", "text", text, worker=1))
    emit(LogController("warn", "json", lines, worker=1))
    assert "[tesserad.test#warn worker=1] warn 3" in text.getvalue()
    assert json.loads(lines.getvalue())["worker"] == 1


def test_apply_switches_level_and_format_and_reports_the_change() -> None:
    out = io.StringIO()
    controller = LogController("info", "text", out)
    assert controller.apply("debug", "json") == ["log.level info -> debug", "log.format text -> json"]
    assert controller.apply("debug", "json") == []
    emit(controller)
    assert [json.loads(line)["n"] for line in out.getvalue().splitlines()] == [1, 2, 3]


def test_stdlib_logging_reaches_the_same_output() -> None:
    import logging

    from twisted.logger import globalLogPublisher

    from tesserad.daemon.logs import StdlibBridge
    out = io.StringIO()
    controller = LogController("info", "json", out)
    globalLogPublisher.addObserver(controller)
    logger = logging.getLogger("tesserad.core.test")
    logger.addHandler(StdlibBridge())
    logger.propagate = False
    try:
        logger.warning("resolver %s unreachable", "ldap1")
        logger.debug("hidden at info")
    finally:
        globalLogPublisher.removeObserver(controller)
        logger.handlers.clear()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["namespace"], r["level"], r["message"]) for r in records] == [
        ("tesserad.core.test", "warn", "resolver ldap1 unreachable")]
