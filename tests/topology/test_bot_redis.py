"""The bot at scale: webhook mode, two bot instances behind a round-robin balancer, conversation state
in Redis, PostgreSQL for the data; one instance restarted in the middle of a conversation."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy import select

from core.models import Intervenant

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
HOOK = "/telegram/webhook"


@dataclass
class BotInstance:
    """One bot process's parts: its own Bot, Dispatcher, Redis storage object and webhook server."""

    emulator_url: str
    bot: Bot | None = None
    dp: Dispatcher | None = None
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> None:
        from bot.emulator import DEFAULT_TOKEN
        from bot.runner import build_dispatcher, make_bot
        from bot.storage import make_storage

        storage = make_storage()
        assert type(storage).__name__ == "RedisStorage"
        self.bot = make_bot(DEFAULT_TOKEN, self.emulator_url)
        self.dp = build_dispatcher(storage, emulator_ack=True)
        app = web.Application()
        SimpleRequestHandler(dispatcher=self.dp, bot=self.bot).register(app, path=HOOK)
        setup_application(app, self.dp, bot=self.bot)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        assert self.runner and self.dp and self.bot
        await self.runner.cleanup()
        await self.dp.storage.close()
        await self.bot.session.close()
        self.runner = None


@dataclass
class Balancer:
    """A round-robin HTTP balancer in front of the bot instances (a dead backend: the next one)."""

    backends: list[BotInstance]
    seen: list[int] = field(default_factory=list)  # backend index per delivered update
    duplicate: bool = False  # deliver each update to every live backend (a retried delivery)
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self, http: aiohttp.ClientSession) -> None:
        turn = itertools.count()

        async def forward(request: web.Request) -> web.Response:
            body = await request.read()
            if self.duplicate:
                for backend in [b for b in self.backends if b.runner is not None]:
                    async with http.post(
                        f"http://127.0.0.1:{backend.port}{HOOK}",
                        data=body,
                        headers={"Content-Type": "application/json"},
                    ) as resp:
                        await resp.read()
            for _ in range(len(self.backends)):
                index = next(turn) % len(self.backends)
                backend = self.backends[index]
                if backend.runner is None:
                    continue
                try:
                    async with http.post(
                        f"http://127.0.0.1:{backend.port}{HOOK}",
                        data=body,
                        headers={"Content-Type": "application/json"},
                    ) as resp:
                        self.seen.append(index)
                        return web.Response(status=resp.status, body=await resp.read())
                except aiohttp.ClientConnectionError:
                    continue
            return web.Response(status=502)

        app = web.Application()
        app.router.add_post(HOOK, forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}{HOOK}"  # type: ignore[union-attr]


@pytest.fixture
def pg_redis(pg_db, redis_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_REDIS_URL", redis_url)
    monkeypatch.setenv("IMAGIN_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("IMAGIN_PASSWORD_HASH_MEMORY_KIB", "1024")
    reset_settings()
    with pg_db() as session:
        return seed_demo(session)


@pytest.fixture
async def webhook_pair(pg_redis) -> AsyncIterator[tuple[Any, list[BotInstance], Balancer, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    from bot.emulator import start_emulator
    from bot.emulator.client import ChatClient

    emulator = await start_emulator()
    instances = [BotInstance(emulator.url), BotInstance(emulator.url)]
    for inst in instances:
        await inst.start()
    async with aiohttp.ClientSession() as http:
        balancer = Balancer(instances)
        await balancer.start(http)
        await instances[0].bot.set_webhook(balancer.url)  # type: ignore[union-attr]
        try:
            yield ChatClient(emulator.url, http), instances, balancer, pg_redis
        finally:
            for inst in instances:
                if inst.runner is not None:
                    await inst.stop()
            assert balancer.runner is not None
            await balancer.runner.cleanup()
            await emulator.stop()


async def test_conversation_survives_a_bot_restart_and_spans_instances(webhook_pair, redis_url: str):
    import redis.asyncio as aioredis

    chat, instances, balancer, codes = webhook_pair
    ines = codes["intervenants"][2]
    user = 700_001

    await chat.send(user, "/start")
    await chat.send(user, ines["numero"])  # the bot now waits for the password
    asked = await chat.last_bot_text(user)

    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() async for k in client.scan_iter(match=f"fsm:*:{user}:*")]
    finally:
        await client.aclose()
    assert keys, "the conversation state is in Redis"

    await instances[0].stop()  # one bot process goes away in the middle of the conversation...
    await instances[0].start()  # ...and a new one (empty memory) takes its place

    await chat.send(user, ines["mot_de_passe"])
    if "code personnel" in await chat.last_bot_text(user):
        await chat.send(user, "Jury2026bac")
    texts = [m["text"] for m in await chat.messages(user)]
    assert any("maintenant relié" in t for t in texts), texts
    assert asked != texts[-1]
    assert set(balancer.seen) == {0, 1}  # updates of one conversation were handled by both instances

    from core.db import session_scope

    with session_scope() as session:
        linked = session.scalar(select(Intervenant.telegram_user_id).where(Intervenant.numero == ines["numero"]))
    assert linked == user


async def test_an_update_delivered_to_two_processes_is_handled_once(webhook_pair):
    import asyncio

    chat, _instances, balancer, _codes = webhook_pair
    user = 700_002
    balancer.duplicate = True  # every update reaches both bot processes, then one of them again
    await chat.send(user, "/start")
    for _ in range(20):  # a second handling would answer within milliseconds: watch for a while
        texts = [m["text"] for m in await chat.messages(user) if m["from"] == "bot"]
        assert sum("identifiant figurant sur votre convocation" in t for t in texts) == 1, texts
        await asyncio.sleep(0.1)


def test_a_bot_process_killed_mid_conversation_is_resumed_by_the_next_one(topology):
    """``imagin run --role bot`` killed with SIGKILL between two answers; a new process (and its emulator)
    takes the conversation where it was, from Redis."""
    import signal

    import httpx
    import redis

    from core.db import session_scope
    from core.demo import seed_demo
    from tests.net import free_port
    from tests.topology.conftest import wait_port

    with session_scope() as session:
        ines = next(i for i in seed_demo(session)["intervenants"] if i["numero"] == "D1003")
    port, user = free_port(), 700_003

    def say(text: str) -> list[str]:
        """Send ``text`` and wait for the bot; the bot's messages of the chat, newest last."""
        sent = httpx.post(
            f"http://127.0.0.1:{port}/emulator/api/send", json={"user_id": user, "text": text, "wait": True}, timeout=60
        ).json()
        assert sent["acked"] is True
        chat = httpx.get(f"http://127.0.0.1:{port}/emulator/api/chat", params={"user_id": user}, timeout=30).json()
        return [m["text"] for m in chat["messages"] if m["from"] == "bot"]

    first = topology.start("bot", name="bot-first", IMAGIN_EMULATOR_PORT=str(port))
    wait_port(port, proc=first)
    say("/start")
    assert "mot de passe" in say(ines["numero"])[-1].lower()  # the bot now waits for the password
    redis_client = redis.Redis.from_url(topology.env["IMAGIN_REDIS_URL"])
    assert list(redis_client.scan_iter(match=f"fsm:*:{user}:*")), "the conversation state is in Redis"
    first.stop(signal.SIGKILL)

    second = topology.start("bot", name="bot-second", IMAGIN_EMULATOR_PORT=str(port))
    wait_port(port, proc=second)
    answer = say(ines["mot_de_passe"])[-1]  # understood as the password: the conversation went on
    assert "code personnel" in answer, answer
    assert any("maintenant relié" in t for t in say("Jury2026bac"))
    with session_scope() as session:
        linked = session.scalar(select(Intervenant.telegram_user_id).where(Intervenant.numero == "D1003"))
    assert linked == user
