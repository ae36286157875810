"""Health and readiness: what a load balancer or systemd watchdog asks each process.

- liveness (``/healthz``): the process answers; nothing else is checked.
- readiness (``/readyz``): the database answers, Redis answers (when configured), the data directory
  (receipts, raw mail) is writable. 200 when all pass, 503 with the failing check otherwise.

The HTTP routes that serve these checks (and the ``ops`` role) are delivery code: ``web/ops.py``.
"""

from __future__ import annotations

import logging
import os
import tempfile

from sqlalchemy import text

from core.db import get_engine
from core.settings import get_settings

log = logging.getLogger(__name__)


def check_database() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def check_redis() -> None:
    import redis

    client = redis.Redis.from_url(get_settings().redis_url or "", socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def check_data_dir() -> None:
    root = get_settings().data_dir
    root.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=root, prefix=".ready-")
    os.close(fd)
    os.unlink(name)


CHECKS = {"database": check_database, "redis": check_redis, "data_dir": check_data_dir}


def readiness() -> dict[str, str]:
    """Run every check that applies; each maps to "ok" or the error's text."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name == "redis" and not get_settings().redis_url:
            continue  # embedded default: no Redis to check
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
    return results
