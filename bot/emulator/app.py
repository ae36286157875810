"""The emulator's aiohttp application and a helper to run it in the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from aiohttp import web

from bot.emulator import bot_api, user_api
from bot.emulator.keys import STATE, TOKEN, WEBHOOK_TASK
from bot.emulator.state import EmulatorState

STATIC = Path(__file__).parent / "static"

DEFAULT_TOKEN = "700000001:emulator-token-not-a-secret"


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _start_webhooks(app: web.Application) -> None:
    app[WEBHOOK_TASK] = asyncio.create_task(bot_api.deliver_webhooks(app))


async def _release_pollers(app: web.Application) -> None:
    await app[STATE].close()


async def _stop_webhooks(app: web.Application) -> None:
    app[WEBHOOK_TASK].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app[WEBHOOK_TASK]


def create_app(token: str | None = None) -> web.Application:
    """Emulator app; `token`, when given, is the only bot token accepted."""
    app = web.Application(client_max_size=60 * 1024 * 1024)
    app[STATE] = EmulatorState()
    app[TOKEN] = token
    app.router.add_post("/bot{token}/{method}", bot_api.handle_method)
    app.router.add_get("/bot{token}/{method}", bot_api.handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", bot_api.handle_file)
    app.router.add_post("/emulator/api/send", user_api.send)
    app.router.add_post("/emulator/api/upload", user_api.upload)
    app.router.add_post("/emulator/api/press", user_api.press)
    app.router.add_get("/emulator/api/chat", user_api.chat)
    app.router.add_get("/emulator/api/file", user_api.file)
    app.router.add_post("/emulator/api/flood", user_api.flood)
    app.router.add_get("/emulator/api/calls", user_api.calls)
    app.router.add_get("/", _index)
    app.router.add_static("/static", STATIC)
    app.on_startup.append(_start_webhooks)
    app.on_shutdown.append(_release_pollers)
    app.on_cleanup.append(_stop_webhooks)
    return app


class RunningEmulator:
    """An emulator served on host:port; `url` is its base (give it to TelegramAPIServer.from_base)."""

    def __init__(self, app: web.Application, runner: web.AppRunner, url: str) -> None:
        self.app, self.runner, self.url = app, runner, url

    @property
    def state(self) -> EmulatorState:
        return self.app[STATE]

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_emulator(host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> RunningEmulator:
    """Start the emulator in the running loop; port 0 picks a free port."""
    app = create_app(token)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return RunningEmulator(app, runner, f"http://{host}:{bound}")
