"""Health and readiness: what a load balancer or systemd watchdog asks each process.

- liveness (``/healthz``): the process answers; nothing else is checked.
- readiness (``/readyz``): the database answers, Redis answers (when configured), the data directory
  (receipts, raw mail) is writable. 200 when all pass, 503 with the failing check otherwise.

``health_routes()`` can be mounted on any Starlette app; ``ops_app()`` is a small app with health and
metrics, and ``run_ops`` (role ``ops``) serves it on ``IMAGIN_OPS_PORT`` for processes that have no web
server of their own (OCR worker, SMTP, IMAP poller machines).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator

import uvicorn
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


def health_routes() -> list:  # list[starlette.routing.Route]
    """``GET /healthz`` (alive) and ``GET /readyz`` (dependencies reachable: 200, else 503)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "pid": os.getpid()})

    async def readyz(_request: Request) -> JSONResponse:
        checks = await asyncio.to_thread(readiness)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
        )

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


def ops_app():  # type: ignore[no-untyped-def]  # -> starlette.applications.Starlette
    """A Starlette app with the health and metrics routes only."""
    from starlette.applications import Starlette

    from core.ops_metrics import metrics_routes

    return Starlette(routes=[*health_routes(), *metrics_routes()])


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``imagin run`` (it stops on the role's event)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_app(app, host: str, port: int, stop: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    """Serve an ASGI app until ``stop`` is set, then finish requests in flight and return."""
    server = EmbeddedServer(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=10)
    )
    task = asyncio.create_task(server.serve(), name=f"http-{port}")
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopper.cancel()
    await task


async def run_ops(stop: asyncio.Event) -> None:
    """Role ``ops``: serve /healthz, /readyz, /metrics on ``IMAGIN_OPS_HOST:IMAGIN_OPS_PORT`` (if set)."""
    settings = get_settings()
    if settings.ops_port is None:
        log.info("ops endpoint disabled (set IMAGIN_OPS_PORT to serve /healthz, /readyz, /metrics)")
        await stop.wait()
        return
    log.info("ops endpoint on http://%s:%s/ (healthz, readyz, metrics)", settings.ops_host, settings.ops_port)
    await serve_app(ops_app(), settings.ops_host, settings.ops_port, stop)
