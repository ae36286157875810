"""`python -m bot`: run the bot alone (the emulator when no IMAGIN_BOT_TOKEN is set)."""

from __future__ import annotations

import asyncio
import signal

import uvloop

from bot.runner import run_bot
from core.db import init_db
from core.ops.logs import configure_logging


async def _main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_bot(stop)


if __name__ == "__main__":
    configure_logging("bot")
    init_db()
    uvloop.run(_main())
