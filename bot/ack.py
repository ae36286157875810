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
from aiogram.types import ErrorEvent

from bot.emulator.state import EmulatorState

log = logging.getLogger(__name__)


class EmulatorAck(TelegramMethod[bool]):
    """`emulatorAck`: the update `update_id` has been handled."""

    __returning__ = bool
    __api_method__ = "emulatorAck"

    update_id: int


class AckMiddleware(BaseMiddleware):
    """Acknowledge every update to the emulator once handled; `state`: the emulator runs in this process
    (acknowledged in place), else through its `emulatorAck` method.

    An outer update middleware. With `after_errors`, it is also installed as an outer middleware of the errors
    observer: an update that raised is then acknowledged once its error handler has answered (a stale button's
    screen shown again), not before (aiogram runs error handlers outside the update middlewares)."""

    def __init__(self, state: EmulatorState | None = None, *, after_errors: bool = False) -> None:
        self.state = state
        self.after_errors = after_errors

    async def __call__(
        self, handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any, data: dict[str, Any]
    ) -> Any:
        if isinstance(event, ErrorEvent):
            try:
                return await handler(event, data)
            finally:
                await self._ack(data["bot"], event.update.update_id)
        try:
            result = await handler(event, data)
        except Exception:
            if not self.after_errors:  # else acknowledged after the error handlers
                await self._ack(data["bot"], event.update_id)
            raise
        await self._ack(data["bot"], event.update_id)
        return result

    async def _ack(self, bot: Bot, update_id: int) -> None:
        if self.state is not None:
            self.state.ack(update_id)
            return
        try:
            await bot(EmulatorAck(update_id=update_id))
        except Exception:  # noqa: BLE001 - the ack only helps waiting clients; never break a handler
            log.debug("emulator ack failed", exc_info=True)
