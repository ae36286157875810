"""Fixtures: the emulator and the real bot (aiogram's HTTP client, long polling) on a fresh database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.emulator import DEFAULT_TOKEN, RunningEmulator, start_emulator
from bot.emulator.client import ChatClient
from bot.runner import build_dispatcher, make_bot
from bot.storage import SqlStorage


@dataclass
class RunningBot:
    """The emulator, a chat client on it, and a way to restart the bot process's parts."""

    emulator: RunningEmulator
    chat: ChatClient
    task: asyncio.Task[Any] | None = None
    bot: Any = None
    dp: Any = None

    async def start(self) -> None:
        from core.db import get_engine

        self.bot = make_bot(DEFAULT_TOKEN, self.emulator.url)
        self.dp = build_dispatcher(SqlStorage(get_engine()), emulator_ack=True)
        self.task = asyncio.create_task(
            self.dp.start_polling(self.bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
        )
        await asyncio.sleep(0)

    async def stop(self) -> None:
        if self.task is None:
            return
        with contextlib.suppress(RuntimeError):
            await self.dp.stop_polling()
        await asyncio.wait_for(self.task, 10)
        await self.dp.storage.close()
        await self.bot.session.close()
        self.task = None

    async def restart(self) -> None:
        """A new bot process: new dispatcher, new storage object, same database and emulator."""
        await self.stop()
        await self.start()


@pytest.fixture(autouse=True)
def cheap_argon2(imagin_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 hashing with light parameters, so seeding and linking stay fast on a busy machine."""
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("IMAGIN_PASSWORD_HASH_MEMORY_KIB", "1024")
    reset_settings()


@pytest.fixture
async def running(demo: dict[str, Any]) -> AsyncIterator[RunningBot]:
    emulator = await start_emulator()
    async with aiohttp.ClientSession() as http:
        app = RunningBot(emulator, ChatClient(emulator.url, http))
        await app.start()
        try:
            yield app
        finally:
            await app.stop()
            await emulator.stop()


@pytest.fixture
def chat(running: RunningBot) -> ChatClient:
    return running.chat
