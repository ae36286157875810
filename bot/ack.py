"""Tell the local emulator when an update has been handled (only installed against the emulator).

Telegram has no such call; the emulator uses it to let its users (tests, benchmark, web page)
wait for the bot's complete answer instead of guessing with sleeps. An emulator running in the bot's own
process (``imagin run`` without a token, the benchmark) is told directly, without a Bot API round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.methods.base import TelegramMethod
from aiogram.types import Update

from bot.emulator.state import EmulatorState

log = logging.getLogger(__name__)


class EmulatorAck(TelegramMethod[bool]):
    """`emulatorAck`: the update `update_id` has been handled."""

    __returning__ = bool
    __api_method__ = "emulatorAck"

    update_id: int


class AckMiddleware(BaseMiddleware):
    """Outer update middleware: acknowledge every update to the emulator once handled; `state`: the emulator
    runs in this process (acknowledged in place), else through its `emulatorAck` method."""

    def __init__(self, state: EmulatorState | None = None) -> None:
        self.state = state

    async def __call__(
        self, handler: Callable[[Update, dict[str, Any]], Awaitable[Any]], event: Update, data: dict[str, Any]
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            if self.state is not None:
                self.state.ack(event.update_id)
            else:
                await self._ack_over_http(data["bot"], event.update_id)

    @staticmethod
    async def _ack_over_http(bot: Bot, update_id: int) -> None:
        try:
            await bot(EmulatorAck(update_id=update_id))
        except Exception:  # noqa: BLE001 - the ack only helps waiting clients; never break a handler
            log.debug("emulator ack failed", exc_info=True)
