"""Core calls from the bot on SQLite: on the event loop, and off it while another connection holds the write lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import run_db
from core.db import get_engine
from core.models.bot_state import BotState

KEY = "test:lock"


def _write(session: Session) -> int:
    session.add(BotState(key=KEY, state="S", data={}))
    session.flush()
    return threading.get_ident()


def _read(session: Session) -> tuple[int, int]:
    return len(session.scalars(select(BotState).where(BotState.key == KEY)).all()), threading.get_ident()


async def test_a_call_runs_on_the_loop_and_waits_for_a_lock_off_it(db: Any) -> None:
    assert await run_db(_read) == (0, threading.get_ident())  # no thread hand-off
    holder = sqlite3.connect(get_engine().url.database or "", check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer (mail pipeline, OCR worker) holds the lock
    release = threading.Timer(0.3, holder.commit)
    release.start()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        writer = await run_db(_write)
    finally:
        ticker.cancel()
        release.join()
        holder.close()
    assert writer != threading.get_ident()  # waited in the worker thread
    assert ticks >= 10  # the loop kept serving other updates meanwhile
    assert (await run_db(_read))[0] == 1
