"""Handle each Telegram update once, whichever bot process receives it and however often.

Telegram re-sends an update whose webhook answer was lost, and a balancer may retry it on another bot
process; after a crash, long polling receives again the updates not yet confirmed. The mark is
``core.ops.idempotency.first_delivery`` (Redis, shared by every process, when configured).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import Update

from core.ops.idempotency import first_delivery

log = logging.getLogger(__name__)


class DedupMiddleware(BaseMiddleware):
    """Outer update middleware: drop an update this bot has already received."""

    async def __call__(
        self, handler: Callable[[Update, dict[str, Any]], Awaitable[Any]], event: Update, data: dict[str, Any]
    ) -> Any:
        bot: Bot = data["bot"]
        if not await first_delivery(f"tg:{bot.id}:{event.update_id}"):
            log.info("update %s delivered again: skipped", event.update_id)
            return None
        return await handler(event, data)
