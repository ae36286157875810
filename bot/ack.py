"""Tell the local emulator when an update has been handled (only installed against the emulator).

Telegram has no such call; the emulator uses it to let its users (tests, benchmark, web page)
wait for the bot's complete answer instead of guessing with sleeps.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.methods.base import TelegramMethod
from aiogram.types import Update

log = logging.getLogger(__name__)


class EmulatorAck(TelegramMethod[bool]):
    """`emulatorAck`: the update `update_id` has been handled."""

    __returning__ = bool
    __api_method__ = "emulatorAck"

    update_id: int


class AckMiddleware(BaseMiddleware):
    """Outer update middleware: acknowledge every update to the emulator once handled."""

    async def __call__(
        self, handler: Callable[[Update, dict[str, Any]], Awaitable[Any]], event: Update, data: dict[str, Any]
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            bot: Bot = data["bot"]
            try:
                await bot(EmulatorAck(update_id=event.update_id))
            except Exception:  # noqa: BLE001 - the ack only helps waiting clients; never break a handler
                log.debug("emulator ack failed", exc_info=True)
