"""Structured logs: one JSON object per line when ``IMAGIN_LOG_FORMAT=json``, readable text otherwise.

Every record carries its time (UTC, ISO 8601), level, logger, message, the process id and the role
(``IMAGIN_ROLE`` or the one given to :func:`configure_logging`), plus any ``extra={...}`` fields.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from core.settings import get_settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (exceptions as a ``exc`` string field)."""

    def __init__(self, role: str | None = None) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if self.role:
            entry["role"] = self.role
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, bool | int | float | str | type(None)) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(role: str | None = None, *, fmt: str | None = None, level: str | None = None) -> None:
    """Set up the root logger from the settings (``log_format``, ``log_level``); replaces prior handlers."""
    settings = get_settings()
    fmt = (fmt or settings.log_format).lower()
    role = role or os.environ.get("IMAGIN_ROLE")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(role) if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or settings.log_level).upper())
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # one line per plugin at each start
