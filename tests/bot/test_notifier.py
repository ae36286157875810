"""Outbox notifications reach the chat once, even under Telegram's 429 flood answers."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.notifier import Notifier
from core import outbox
from core.db import session_scope
from core.models import OutboxMessage
from tests.bot.conftest import RunningBot
from tests.bot.helpers import link, person


def _enqueue(chat_id: int, texts: list[str]) -> None:
    with session_scope() as session:
        for i, text in enumerate(texts):
            outbox.enqueue(
                session,
                channel="telegram",
                recipient=str(chat_id),
                kind="dec_decision",
                text=text,
                dedupe_key=f"test:{chat_id}:{i}",
            )


def _statuses() -> list[tuple[str, int]]:
    with session_scope() as session:
        return list(
            session.execute(
                select(OutboxMessage.status, OutboxMessage.attempts)
                .where(OutboxMessage.channel == "telegram")
                .order_by(OutboxMessage.id)
            )
        )


async def _until_all_sent(timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while any(status != "sent" for status, _ in _statuses()):
            await asyncio.sleep(0.05)


async def test_notification_delivered_once_after_a_429(running: RunningBot, demo: dict[str, Any]) -> None:
    chat = running.chat
    p = person(demo, 0)
    await link(chat, 8001, p["numero"], p["mot_de_passe"])
    _enqueue(8001, ["Votre dossier 2026-000001 a été validé par la DEC."])
    await chat.flood(1, retry_after=1, methods=["sendMessage"])
    stop = asyncio.Event()
    task = asyncio.create_task(Notifier(running.bot, poll_interval=0.05).run(stop))
    await _until_all_sent()
    stop.set()
    await task
    texts = [m["text"] for m in await chat.messages(8001)]
    assert texts.count("Votre dossier 2026-000001 a été validé par la DEC.") == 1
    sends = [c for c in await chat.calls() if c["method"] == "sendMessage"]
    refused = [c for c in sends if c["status"] == 429]
    assert len(refused) == 1
    after = [c for c in sends if c["at"] > refused[0]["at"]]
    assert after and after[0]["at"] - refused[0]["at"] >= 1.0  # retry_after honoured
    assert _statuses() == [("sent", 1)]


async def test_two_notifiers_never_send_twice(running: RunningBot, demo: dict[str, Any]) -> None:
    chat = running.chat
    for user in (8101, 8102):
        await chat.send(user, "/start")  # the chats exist (not linked: notifications are for any chat id)
    texts = [f"Rappel n° {i}" for i in range(4)]
    _enqueue(8101, texts)
    _enqueue(8102, [f"Autre {i}" for i in range(4)])
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(Notifier(running.bot, poll_interval=0.05, per_chat_interval=0.05).run(stop))
        for _ in range(2)
    ]
    await _until_all_sent()
    stop.set()
    await asyncio.gather(*tasks)
    got = [m["text"] for m in await chat.messages(8101) if m["text"].startswith("Rappel")]
    assert sorted(got) == texts  # each exactly once
    assert sorted(m["text"] for m in await chat.messages(8102) if m["text"].startswith("Autre")) == [
        f"Autre {i}" for i in range(4)
    ]
