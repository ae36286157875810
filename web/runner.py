"""``imagin run`` role ``web``: the DEC console under uvicorn, stopped gracefully with the service."""

from __future__ import annotations

import asyncio
import logging

import uvicorn

from core.settings import get_settings
from web.app import create_app
from web.ops import EmbeddedServer

log = logging.getLogger(__name__)


async def run_web(stop: asyncio.Event) -> None:
    """Serve the console on IMAGIN_WEB_HOST:IMAGIN_WEB_PORT until ``stop`` is set."""
    s = get_settings()
    proxies = [ip.strip() for ip in s.web_proxy_ips.split(",") if ip.strip()]
    config = uvicorn.Config(
        create_app(),
        host=s.web_host,
        port=s.web_port,
        log_level="info",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
        lifespan="off",
    )
    server = EmbeddedServer(config)
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    log.info("DEC console on http://%s:%s", s.web_host, s.web_port)
    done, _ = await asyncio.wait([serving, stopping], return_when=asyncio.FIRST_COMPLETED)
    if serving not in done:
        server.should_exit = True
        await serving
    stopping.cancel()
    if serving.exception() is not None:
        raise serving.exception()  # type: ignore[misc]
