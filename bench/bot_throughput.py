"""Benchmark: whole declarations pushed through the full bot (aiogram-dialog, core, SQLite) via the
emulator, against a bare aiogram-dialog bot (two windows and a button, no database, no rules) through the
same emulator, measured in the same run.

Usage: .venv/bin/python bench/bot_throughput.py [--users 20] [--rounds 3] [--load-users 200] [--load-seconds 60]
Prints three figures: the rate ratio bot/bare with `--users` conversations at once (goal >= 0.5), the p99
step latency of one conversation alone (goal < 50 ms), and the p99 step latency under a realistic load,
`--load-users` conversations each stepping every 2 s on average (Poisson) for `--load-seconds` (goal <
150 ms). Loopback only, about two to three minutes on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE_USER = 900_000
LOAD_PACE = 2.0  # seconds between two steps of one conversation, on average


def mission_day(k: int) -> datetime:
    """Start of each user's mission `k`: one every other day back from yesterday (done, so declarable)."""
    day = datetime.now() - timedelta(days=1 + 2 * k)
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- server side (a subprocess: the emulator and one bot in their own process) -----------------


def seed(missions: list[int]) -> None:
    """One intervenant per simulated user, already linked to its Telegram id, `missions[i]` missions for user i."""
    from core import accounts
    from core.db import init_db, session_scope
    from core.imports import apply_row
    from core.models import Intervenant

    init_db()
    password_hash = accounts.hash_password("Bench2026code")
    with session_scope() as session:
        for i, k in ((i, k) for i, count in enumerate(missions) for k in range(count)):
            apply_row(
                session,
                {
                    "numero": f"B{i:05d}",
                    "imagin_id": f"IMG-B{i:05d}",
                    "civility": "M.",
                    "last_name": f"BENCH{i}",
                    "first_name": "Test",
                    "emails": [f"bench{i}@example.org"],
                    "commune": "ST LO",
                    "rqth": False,
                    "password": "Bench2026code",
                    "exam_code": "BAC",
                    "exam_name": "BACCALAUREAT GENERAL",
                    "session": "Session bench",
                    "rate_group": "T5",
                    "oral_minutes": None,
                    "mission_number": f"BENCH-{i}-{k}",
                    "mission_type": "correction",
                    "speciality": "PHILOSOPHIE",
                    "epreuve": "Écrit",
                    "centre_code": "0141274A",
                    "centre_name": "LYCEE MALHERBE",
                    "centre_commune": "CAEN",
                    "zone": "standard",
                    "start": mission_day(k),
                    "duration": 1,
                    "pay": True,
                    "travel": True,
                    "expected": 100,
                },
                actor="bench",
            )
        session.flush()
        for person in session.query(Intervenant).all():
            person.password_hash = password_hash
            person.must_change_password = False
            accounts.link_telegram(session, person, BASE_USER + int(person.numero[1:]))


def bare_dialog() -> Any:
    """The baseline: aiogram-dialog with two windows and a button each, no database, no rules."""
    from aiogram.fsm.state import State, StatesGroup
    from aiogram_dialog import Dialog, Window
    from aiogram_dialog.widgets.kbd import Button, SwitchTo
    from aiogram_dialog.widgets.text import Const, Format

    class Bare(StatesGroup):
        first = State()
        second = State()

    async def getter(**kwargs: Any) -> dict[str, Any]:
        return {"n": random.randint(0, 10**6)}

    return Bare, Dialog(
        Window(
            Format("Premier écran {n}"),
            SwitchTo(Const("Suivant"), id="next", state=Bare.second),
            state=Bare.first,
            getter=getter,
        ),
        Window(
            Format("Second écran {n}"),
            SwitchTo(Const("Retour"), id="back", state=Bare.first),
            Button(Const("Rien"), id="noop"),
            state=Bare.second,
            getter=getter,
        ),
    )


async def serve(kind: str, port: int, missions: list[int]) -> None:
    from aiogram import Dispatcher
    from aiogram.filters import CommandStart
    from aiogram.types import Message
    from aiogram_dialog import DialogManager, StartMode, setup_dialogs

    from bot.ack import AckMiddleware
    from bot.emulator import DEFAULT_TOKEN, start_emulator
    from bot.runner import build_dispatcher, make_bot

    emulator = await start_emulator(port=port)
    bot = make_bot(DEFAULT_TOKEN, emulator.url)
    if kind == "bare":
        dp = Dispatcher()
        dp.update.outer_middleware(AckMiddleware(emulator.state))
        states, dialog = bare_dialog()

        @dp.message(CommandStart())
        async def start(message: Message, dialog_manager: DialogManager) -> None:
            await dialog_manager.start(states.first, mode=StartMode.RESET_STACK)

        dp.include_router(dialog)
        setup_dialogs(dp)
    else:
        seed(missions)
        dp = build_dispatcher(emulator=emulator.state)
    print("ready", flush=True)
    await dp.start_polling(bot, handle_signals=True, polling_timeout=10)


# ---- client side --------------------------------------------------------------------------------


class Stopped(Exception):
    """The load phase is over: the conversation stops where it is."""


class Unanswered(RuntimeError):
    """The bot did not answer a step within the emulator's wait (15 s)."""


class Driver:
    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base, self.http = base, http
        self.pace: float | None = None  # mean pause before each step (Poisson), None: no pause
        self.deadline = float("inf")
        self.unanswered = 0
        self.latencies: list[float] = []
        self.by_step: dict[str, list[float]] = {}
        self.last: dict[int, list[dict[str, Any]]] = {}  # each user's latest messages, from the answers

    async def _post(self, path: str, payload: dict[str, Any], step: str) -> None:
        if self.pace:
            await asyncio.sleep(random.expovariate(1 / self.pace))
        if time.perf_counter() >= self.deadline:
            raise Stopped
        t0 = time.perf_counter()
        async with self.http.post(f"{self.base}/emulator/api/{path}", json={**payload, "wait": True}) as resp:
            body = await resp.json()
        self.latencies.append(time.perf_counter() - t0)  # unanswered: the emulator's 15 s wait, counted
        if resp.status != 200 or not body.get("acked"):
            self.unanswered += 1
            raise Unanswered(f"{path} {payload}: {resp.status} {body}")
        self.by_step.setdefault(step, []).append(self.latencies[-1])
        self.last[payload["user_id"]] = body["last"]

    async def send(self, user: int, text: str) -> None:
        await self._post("send", {"user_id": user, "text": text}, text.split()[0][:12])

    async def press(self, user: int, label: str) -> None:
        messages = self.last[user]
        for message in reversed(messages):
            for row in message["buttons"]:
                for button in row:
                    if label in button["text"]:
                        await self._post(
                            "press",
                            {"user_id": user, "message_id": message["id"], "data": button["data"]},
                            f"[{label}]",
                        )
                        return
        raise RuntimeError(f"user {user}: no button {label!r}; last: {messages[-1]['text'][:200]!r}")


async def declaration(driver: Driver, user: int, k: int) -> None:
    from core.french import format_date

    day = mission_day(k)
    d0 = format_date(day)
    await driver.send(user, "/start")
    await driver.press(user, f"BENCH-{user - BASE_USER}-{k} ·")
    await driver.press(user, "Déclarer")
    await driver.press(user, "Oui, effectuée")
    await driver.send(user, "95")
    await driver.send(user, f"{d0} 07:00")
    await driver.send(user, "19:00")
    await driver.press(user, "Ajouter un trajet")
    await driver.send(user, f"{d0} 07:10")
    await driver.send(user, "ST LO")
    await driver.send(user, "08:20")
    await driver.send(user, "CAEN")
    await driver.press(user, "Train")
    await driver.press(user, "Continuer")
    await driver.press(user, "0")
    await driver.send(user, "1")
    await driver.send(user, "0")  # none at the administrative restaurant (typed: the buttons changed)
    await driver.send(user, "32,40")
    await driver.press(user, "Continuer")
    await driver.press(user, "Valider")  # the points to check listed (no receipt received yet)
    await driver.press(user, "Je confirme")


async def bare_chat(driver: Driver, user: int, steps: int) -> None:
    """As many steps as a declaration: /start, then the two windows' buttons in turn."""
    await driver.send(user, "/start")
    for i in range(steps - 1):
        await driver.press(user, "Retour" if i % 2 else "Suivant")


STEPS_PER_DECLARATION = 21


def start_server(kind: str, missions: list[int], data_dir: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {
        **os.environ,
        "IMAGIN_DATA_DIR": data_dir,
        "IMAGIN_PASSWORD_HASH_TIME_COST": "1",
        "IMAGIN_PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    env.pop("IMAGIN_DATABASE_URL", None)
    env.pop("IMAGIN_REDIS_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            kind,
            "--port",
            str(port),
            "--missions",
            ",".join(map(str, missions)),
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"{kind} server did not start")
    return proc, f"http://127.0.0.1:{port}"


async def run_users(driver: Driver, kind: str, users: range, rounds: range) -> float:
    """Conversations of `users` at once, one per round; returns the elapsed seconds."""
    t0 = time.perf_counter()
    for k in rounds:
        if kind == "bare":
            await asyncio.gather(*(bare_chat(driver, BASE_USER + i, STEPS_PER_DECLARATION) for i in users))
        else:
            await asyncio.gather(*(declaration(driver, BASE_USER + i, k) for i in users))
    return time.perf_counter() - t0


async def paced(driver: Driver, user: int, first: int, last: int) -> None:
    """One conversation of the load phase: declarations of missions first..last-1 until the deadline."""
    try:
        for k in range(first, last):
            await declaration(driver, user, k)
    except (Stopped, Unanswered):  # over, or the bot is overwhelmed: the conversation stops (counted)
        return


async def measure(
    kind: str, users: int, rounds: int, solo_rounds: int, load_users: int, load_seconds: float
) -> dict[str, Any]:
    """Throughput with `users` conversations at once, step latency of one conversation alone, then (bot only)
    step latency under `load_users` paced conversations for `load_seconds`."""
    load_rounds = math.ceil(1.25 * load_seconds / LOAD_PACE / STEPS_PER_DECLARATION) if kind == "bot" else 0
    lone_user = max(users, load_users if load_rounds else 0)
    first_paced = [rounds if i < users else 0 for i in range(lone_user)]  # the first mission left to each user
    missions = [first + (load_rounds if i < load_users else 0) for i, first in enumerate(first_paced)]
    with tempfile.TemporaryDirectory() as data_dir:
        proc, base = start_server(kind, [*missions, solo_rounds + 1], data_dir)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                driver = Driver(base, http)
                lone = range(lone_user, lone_user + 1)
                await run_users(driver, kind, lone, range(1))  # warm-up, not measured
                driver.latencies.clear()
                cpu0 = cpu_seconds(proc.pid)
                elapsed = await run_users(driver, kind, range(users), range(rounds))
                cpu = cpu_seconds(proc.pid) - cpu0
                loaded = list(driver.latencies)
                driver.latencies.clear()
                driver.by_step.clear()
                await run_users(driver, kind, lone, range(1, solo_rounds + 1))
                solo = list(driver.latencies)
                slowest = sorted(driver.by_step.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
                print(
                    f"{kind:>4}: slowest steps alone (median): "
                    + ", ".join(f"{step} {statistics.median(values) * 1000:.1f} ms" for step, values in slowest),
                    flush=True,
                )
                paced_latencies: list[float] = []
                unanswered = 0
                if load_rounds:
                    driver.latencies.clear()
                    driver.pace, driver.deadline = LOAD_PACE, time.perf_counter() + load_seconds
                    await asyncio.gather(
                        *(
                            paced(driver, BASE_USER + i, first_paced[i], first_paced[i] + load_rounds)
                            for i in range(load_users)
                        )
                    )
                    paced_latencies = list(driver.latencies)
                    unanswered = driver.unanswered
                return {
                    "rate": len(loaded) / elapsed,
                    "count": len(loaded),
                    "elapsed": elapsed,
                    "cpu_per_update": cpu / len(loaded),
                    "loaded": loaded,
                    "solo": solo,
                    "paced": paced_latencies,
                    "unanswered": unanswered,
                }
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), robust to a busy machine's noise."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def ms(values: list[float], q: int) -> str:
    return f"{p(values, q) * 1000:.1f} ms"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


async def main(users: int, rounds: int, solo_rounds: int, load_users: int, load_seconds: float) -> None:
    results = {}
    for kind in ("bare", "bot"):
        r = results[kind] = await measure(kind, users, rounds, solo_rounds, load_users, load_seconds)
        print(
            f"{kind:>4}: {users} conversations at once: {r['count']} updates in {r['elapsed']:.2f} s = "
            f"{r['rate']:7.1f} updates/s (latency under that load p50 {ms(r['loaded'], 50)}, p99 "
            f"{ms(r['loaded'], 99)}) · one conversation alone, {len(r['solo'])} steps: p50 {ms(r['solo'], 50)}, "
            f"p99 {ms(r['solo'], 99)} · server CPU {r['cpu_per_update'] * 1000:.1f} ms per update",
            flush=True,
        )
    bot = results["bot"]
    ratio = bot["rate"] / results["bare"]["rate"]
    cpu_ratio = results["bare"]["cpu_per_update"] / bot["cpu_per_update"]
    print(f"server CPU per update, bare/bot = {cpu_ratio:.2f} (the rate ratio on an idle machine)")
    solo99 = p(bot["solo"], 99) * 1000
    print(f"1. rate ratio bot/bare dialog = {ratio:.2f} (goal >= 0.50: {verdict(ratio >= 0.5)})")
    print(f"2. p99 step latency, one conversation alone = {solo99:.1f} ms (goal < 50 ms: {verdict(solo99 < 50)})")
    if bot["paced"]:
        paced99 = p(bot["paced"], 99) * 1000
        print(
            f"3. p99 step latency, {load_users} conversations each stepping every {LOAD_PACE:g} s on average for "
            f"{load_seconds:g} s ({len(bot['paced'])} steps, {bot['unanswered']} unanswered within 15 s, "
            f"p50 {ms(bot['paced'], 50)}) = {paced99:.1f} ms "
            f"(goal < 150 ms: {verdict(paced99 < 150)})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="conversations running at once")
    parser.add_argument("--rounds", type=int, default=3, help="declarations per user in the rate phase")
    parser.add_argument("--solo-rounds", type=int, default=3, help="declarations of the lone user (latency)")
    parser.add_argument("--load-users", type=int, default=200, help="paced conversations of the load phase")
    parser.add_argument("--load-seconds", type=float, default=60, help="length of the load phase (0: skip it)")
    parser.add_argument("--serve", choices=["bare", "bot"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--missions", default="1", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        uvloop.run(serve(args.serve, args.port, [int(n) for n in args.missions.split(",")]))
    else:
        uvloop.run(main(args.users, args.rounds, args.solo_rounds, args.load_users, args.load_seconds))
