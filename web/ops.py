"""HTTP endpoints for operations: ``/healthz``, ``/readyz``, ``/metrics``, and the ``ops`` role serving them.

``health_routes()`` and ``metrics_routes()`` can be mounted on any Starlette app; ``ops_app()`` is a small app
with both, and ``run_ops`` (role ``ops``) serves it on ``IMAGIN_OPS_PORT`` for processes that have no web
server of their own (OCR worker, SMTP, IMAP poller machines). The checks and figures are ``core.ops``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.db import session_scope
from core.ops.health import readiness
from core.ops.metrics import prometheus_text, snapshot
from core.settings import get_settings

log = logging.getLogger(__name__)


def health_routes() -> list[Route]:
    """``GET /healthz`` (alive) and ``GET /readyz`` (dependencies reachable: 200, else 503)."""

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "pid": os.getpid()})

    async def readyz(_request: Request) -> JSONResponse:
        checks = await asyncio.to_thread(readiness)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
        )

    return [Route("/healthz", healthz), Route("/readyz", readyz)]


def ops_app() -> Starlette:
    """A Starlette app with the health and metrics routes only."""

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


def metrics_routes() -> list[Route]:
    """``GET /metrics`` (Prometheus text) and ``GET /metrics.json``, to mount on any Starlette app."""

    async def metrics(_request: Request) -> Response:
        body = await asyncio.to_thread(prometheus_text)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    def _json() -> dict[str, object]:
        with session_scope() as session:
            return snapshot(session).as_dict()

    async def metrics_json(_request: Request) -> Response:
        return JSONResponse(await asyncio.to_thread(_json))

    return [Route("/metrics", metrics), Route("/metrics.json", metrics_json)]
