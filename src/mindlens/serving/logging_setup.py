"""Logging for ``mindlens serve``: one JSON object per line (or plain text), a request id on
every line, uvicorn's own access log included.

uvicorn writes its access line while the response starts, inside the request's context, so the
request id (and the time since the request arrived) are still known there. The access line is
the one event per request: method, path without query string, status, duration, request id.
Texts are never logged here; the prediction log decides separately what of a text it keeps.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from mindlens.serving import request_id


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and, for uvicorn's access lines, structured request fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current.get()
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, http_version, status = record.args
            record.event = "request"
            record.client = client
            record.method = method
            clean_path = str(path).split("?", 1)[0]  # a query string may carry user text
            record.path = clean_path
            record.http_version = http_version
            record.status = status
            began = request_id.started.get()
            if began is not None:
                record.duration_ms = round((time.perf_counter() - began) * 1000, 2)
            record.msg, record.args = "%s %s %s", (method, clean_path, status)
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra fields}`` on one line:
    python-json-logger's formatter with MindLens's field names and a UTC millisecond ``ts``."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName"],
            json_default=str,
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("request_id") is None:  # outside a request, or a record no filter saw
            log_data["request_id"] = "-"
        return log_data


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def log_config(fmt: str = "json", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the root logger and uvicorn's loggers (passed to
    ``uvicorn.Config(log_config=...)`` so uvicorn does not install its own)."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if fmt == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": f"{__name__}.RequestContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "main": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "main",
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["main"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level, "propagate": True},
        },
    }
