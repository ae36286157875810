"""Benchmark: an identifier's password tried 1000 times from 50 chats while its owner links from their own chat.

Everything runs on loopback in this process: the local Bot API emulator, the real bot (aiogram's HTTP client,
aiogram-dialog, core, SQLite in a temporary directory, production argon2 parameters) and the chats.
Prints, measured in the same run:
- the owner's time to link under attack, against the same link with nobody attacking (baseline);
- how many of the attackers' passwords were checked at all, per second and against the stated limit
  (``core.accounts.max_attempts_within``: each chat's first try, then the identifier's growing delays).

Usage: .venv/bin/python bench/login_throttle.py [--attempts 1000] [--chats 50]
Bounded: every chat sends its attempts one after the other; a few minutes at most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IDENTIFIER = "B0001"
OWNER_CODE = "Bench2026code"
OWNER_CHAT = 1
ATTACKER_BASE = 10_000


def seed() -> None:
    from core import accounts
    from core.db import init_db, session_scope
    from core.models import Intervenant, IntervenantEmail

    init_db()
    with session_scope() as session:
        person = Intervenant(
            numero=IDENTIFIER,
            last_name="BANC",
            first_name="Owner",
            password_hash=accounts.hash_password(OWNER_CODE),
            must_change_password=False,
            intake_token="benchtok",
        )
        person.emails.append(IntervenantEmail(address="owner@example.org"))
        session.add(person)


async def answered(chat, user_id: int, words: tuple[str, ...], before: int, timeout: float = 300.0) -> str:  # type: ignore[no-untyped-def]
    """The first new bot answer containing one of ``words`` (the emulator's own wait may end first under load)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        found = [
            m["text"] for m in await chat.messages(user_id) if m["from"] == "bot" and any(w in m["text"] for w in words)
        ]
        if len(found) > before:
            return found[before]
        await asyncio.sleep(0.1)
    raise SystemExit(f"chat {user_id}: no answer within {timeout:.0f} s")


LINKED = ("maintenant relié",)
VERDICTS = ("incorrect", "Trop de tentatives", "maintenant relié")


async def owner_links(chat, user_id: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the owner's /start to the confirmation of the link."""
    started = time.perf_counter()
    await chat.send(user_id, "/start")
    await chat.send(user_id, IDENTIFIER)
    await chat.send(user_id, OWNER_CODE)
    verdict = await answered(chat, user_id, VERDICTS, 0)
    if "maintenant relié" not in verdict:
        raise SystemExit(f"the owner (chat {user_id}) could not link: {verdict}")
    return time.perf_counter() - started


async def attacker(chat, user_id: int, attempts: int, counts: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    await chat.send(user_id, "/start")
    for n in range(attempts):
        await chat.send(user_id, IDENTIFIER)
        await chat.send(user_id, f"devine{n:04d}")
        verdict = await answered(chat, user_id, VERDICTS, n)
        counts["checked" if "incorrect" in verdict else "throttled" if "Trop" in verdict else "other"] += 1


async def run(attempts: int, chats: int) -> None:
    from bot.emulator import DEFAULT_TOKEN, start_emulator
    from bot.emulator.client import ChatClient
    from bot.runner import build_dispatcher, make_bot
    from bot.storage import SqlStorage
    from core import accounts
    from core.db import get_engine
    from core.settings import get_settings

    emulator = await start_emulator()
    bot = make_bot(DEFAULT_TOKEN, emulator.url)
    dp = build_dispatcher(SqlStorage(get_engine()), emulator_ack=True)
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        async with aiohttp.ClientSession() as http:
            chat = ChatClient(emulator.url, http)
            baseline = await owner_links(chat, OWNER_CHAT)  # nobody attacking
            counts = {"checked": 0, "throttled": 0, "other": 0}
            started = time.perf_counter()
            per_chat = attempts // chats
            attack = asyncio.gather(*(attacker(chat, ATTACKER_BASE + i, per_chat, counts) for i in range(chats)))
            attack_task = asyncio.ensure_future(attack)
            await asyncio.sleep(2.0)  # the attack is in full swing
            under_attack = await owner_links(chat, OWNER_CHAT + 1)  # the owner's new phone
            await attack_task
            duration = time.perf_counter() - started
    finally:
        await dp.stop_polling()
        await polling
        await dp.storage.close()
        await bot.session.close()
        await emulator.stop()
    s = get_settings()
    limit = accounts.max_attempts_within(duration, origins=chats)
    print(f"attack: {per_chat * chats} passwords from {chats} chats in {duration:.1f} s ({counts})")
    print(
        f"throttle: {s.throttle_free_failures} free failures, then {s.throttle_base_delay_seconds:g} s doubling up to "
        f"{s.throttle_max_delay_seconds:g} s, window {s.throttle_window_seconds} s"
    )
    print(
        f"owner's time to link: {under_attack * 1000:.0f} ms under attack, {baseline * 1000:.0f} ms alone "
        f"(ratio {under_attack / baseline:.2f}x)"
    )
    checked, tried = counts["checked"], per_chat * chats
    print(
        f"attackers' passwords checked: {checked} ({checked / duration:.2f}/s); stated limit for {duration:.0f} s "
        f"and {chats} chats: {limit} ({limit / duration:.2f}/s); ratio {checked / limit:.2f}"
    )
    print(f"refused without checking: {counts['throttled']} of {tried} ({counts['throttled'] / tried:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imagin-bench-") as tmp:
        os.environ["IMAGIN_DATA_DIR"] = tmp
        from core.settings import reset_settings

        reset_settings()
        seed()
        asyncio.run(run(args.attempts, args.chats))


if __name__ == "__main__":
    main()
