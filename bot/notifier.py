"""Deliver the core outbox's Telegram notifications within Telegram's flood limits.

Rows are leased with `outbox.claim` (so two processes never send the same one), sent at most
`GLOBAL_RATE` per second overall and one per `PER_CHAT_INTERVAL` per chat, and marked sent right
after Telegram accepted them. A 429 pauses all sending for its `retry_after` and reschedules the
row; other errors are retried by core's backoff. Nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from sqlalchemy.orm import Session

from bot.services import run_db
from core import outbox

log = logging.getLogger(__name__)

GLOBAL_RATE = 30.0  # messages per second, all chats together
PER_CHAT_INTERVAL = 1.0  # seconds between two messages to the same chat
POLL_INTERVAL = 1.0  # seconds between looks at the outbox when it is empty
BATCH = 30


def _claim(session: Session) -> list[tuple[int, str, str]]:
    return [(m.id, m.recipient, m.text) for m in outbox.claim(session, "telegram", limit=BATCH)]


class Notifier:
    """The Telegram side of the outbox."""

    def __init__(
        self,
        bot: Bot,
        *,
        global_rate: float = GLOBAL_RATE,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self.bot = bot
        self.min_gap = 1.0 / global_rate
        self.per_chat_interval = per_chat_interval
        self.poll_interval = poll_interval
        self._next_send = 0.0
        self._chat_ready: dict[str, float] = {}
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set."""
        while not stop.is_set():
            try:
                delivered = await self.deliver_once()
            except Exception:  # noqa: BLE001 - keep delivering after a database hiccup
                log.exception("outbox delivery round failed")
                delivered = 0
            if not delivered:
                try:
                    await asyncio.wait_for(stop.wait(), self.poll_interval)
                except TimeoutError:
                    pass

    async def deliver_once(self) -> int:
        """Claim due notifications and try to send them; returns how many were handled."""
        batch = await run_db(_claim)
        pending = list(batch)
        while pending:
            now = time.monotonic()
            ready = next((m for m in pending if self._chat_ready.get(m[1], 0.0) <= now), None)
            if ready is None:
                await asyncio.sleep(min(self._chat_ready[m[1]] for m in pending) - now)
                continue
            pending.remove(ready)
            await self._pace()
            await self._send(*ready)
        return len(batch)

    async def _pace(self) -> None:
        delay = self._next_send - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self._next_send = max(self._next_send, time.monotonic()) + self.min_gap

    async def _send(self, message_id: int, recipient: str, text: str) -> None:
        self._chat_ready[recipient] = time.monotonic() + self.per_chat_interval
        try:
            await self.bot.send_message(chat_id=int(recipient), text=text)
        except TelegramRetryAfter as exc:
            log.warning("Telegram flood limit: retry after %s s", exc.retry_after)
            resume = time.monotonic() + exc.retry_after
            self._next_send = max(self._next_send, resume)
            self._chat_ready[recipient] = max(self._chat_ready[recipient], resume)
            await run_db(outbox.mark_failed, message_id, f"429: {exc.message}", float(exc.retry_after))
            return
        except (TelegramAPIError, TelegramNetworkError, ValueError) as exc:
            log.warning("notification %s not delivered: %s", message_id, exc)
            await run_db(outbox.mark_failed, message_id, str(exc))
            return
        await run_db(outbox.mark_sent, message_id)
        self.sent += 1
