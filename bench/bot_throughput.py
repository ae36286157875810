"""Benchmark: whole declarations pushed through the full bot (aiogram-dialog, core, SQLite) via the
emulator, against aiogram's plain echo bot through the same emulator, measured in the same run.

Usage: .venv/bin/python bench/bot_throughput.py [--users 30] [--rounds 3]
Prints updates/s and per-step latency (p50, p99) for both, and the ratio. Goal: the bot reaches at
least half the echo bot's rate with a p99 step latency under 50 ms. Loopback only, a few minutes at most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BASE_USER = 900_000


def mission_day(k: int) -> datetime:
    """Start of each user's mission `k`: one every other day back from yesterday (done, so declarable)."""
    day = datetime.now() - timedelta(days=1 + 2 * k)
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- server side (a subprocess: the emulator and one bot in their own process) -----------------


def seed(users: int, missions: int) -> None:
    """One intervenant per simulated user, already linked to its Telegram id, `missions` missions each."""
    from core import accounts
    from core.db import init_db, session_scope
    from core.imports import apply_row
    from core.models import Intervenant

    init_db()
    password_hash = accounts.hash_password("Bench2026code")
    with session_scope() as session:
        for i, k in ((i, k) for i in range(users) for k in range(missions)):
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


async def serve(kind: str, port: int, users: int, missions: int) -> None:
    from aiogram import Dispatcher
    from aiogram.types import Message

    from bot.ack import AckMiddleware
    from bot.emulator import DEFAULT_TOKEN, start_emulator
    from bot.runner import build_dispatcher, make_bot

    emulator = await start_emulator(port=port)
    bot = make_bot(DEFAULT_TOKEN, emulator.url)
    if kind == "echo":
        dp = Dispatcher()
        dp.update.outer_middleware(AckMiddleware())

        @dp.message()
        async def echo(message: Message) -> None:
            await message.send_copy(chat_id=message.chat.id)
    else:
        seed(users, missions)
        dp = build_dispatcher(emulator_ack=True)
    print("ready", flush=True)
    await dp.start_polling(bot, handle_signals=True, polling_timeout=10)


# ---- client side --------------------------------------------------------------------------------


class Driver:
    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base, self.http = base, http
        self.latencies: list[float] = []
        self.by_step: dict[str, list[float]] = {}
        self.last: dict[int, list[dict[str, Any]]] = {}  # each user's latest messages, from the answers

    async def _post(self, path: str, payload: dict[str, Any], step: str) -> None:
        t0 = time.perf_counter()
        async with self.http.post(f"{self.base}/emulator/api/{path}", json={**payload, "wait": True}) as resp:
            body = await resp.json()
            if resp.status != 200 or not body.get("acked"):
                raise RuntimeError(f"{path} {payload}: {resp.status} {body}")
        self.latencies.append(time.perf_counter() - t0)
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
    day = mission_day(k)
    d0 = day.strftime("%d/%m/%Y")
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
    await driver.press(user, "0")
    await driver.send(user, "32,40")
    await driver.press(user, "Continuer")
    await driver.press(user, "Valider")


async def echo_chat(driver: Driver, user: int, messages: int) -> None:
    for i in range(messages):
        await driver.send(user, f"message {i}")


STEPS_PER_DECLARATION = 20


def start_server(kind: str, users: int, missions: int, data_dir: str) -> tuple[subprocess.Popen[str], str]:
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
            "--users",
            str(users),
            "--missions",
            str(missions),
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
        if kind == "echo":
            await asyncio.gather(*(echo_chat(driver, BASE_USER + i, STEPS_PER_DECLARATION) for i in users))
        else:
            await asyncio.gather(*(declaration(driver, BASE_USER + i, k) for i in users))
    return time.perf_counter() - t0


async def measure(kind: str, users: int, rounds: int, solo_rounds: int) -> dict[str, Any]:
    """Throughput with `users` conversations at once, then step latency of one conversation alone."""
    with tempfile.TemporaryDirectory() as data_dir:
        proc, base = start_server(kind, users + 1, max(rounds, solo_rounds + 1), data_dir)
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                driver = Driver(base, http)
                lone = range(users, users + 1)
                await run_users(driver, kind, lone, range(1))  # warm-up, not measured
                driver.latencies.clear()
                cpu0 = cpu_seconds(proc.pid)
                elapsed = await run_users(driver, kind, range(users), range(rounds))
                cpu = cpu_seconds(proc.pid) - cpu0
                loaded = list(driver.latencies)
                driver.latencies.clear()
                driver.by_step.clear()
                await run_users(driver, kind, lone, range(1, solo_rounds + 1))
                slowest = sorted(driver.by_step.items(), key=lambda kv: -statistics.median(kv[1]))[:3]
                print(
                    f"{kind:>4}: slowest steps alone (median): "
                    + ", ".join(f"{step} {statistics.median(values) * 1000:.1f} ms" for step, values in slowest),
                    flush=True,
                )
                return {
                    "rate": len(loaded) / elapsed,
                    "count": len(loaded),
                    "elapsed": elapsed,
                    "cpu_per_update": cpu / len(loaded),
                    "loaded": loaded,
                    "solo": list(driver.latencies),
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


async def main(users: int, rounds: int, solo_rounds: int) -> None:
    results = {}
    for kind in ("echo", "bot"):
        r = results[kind] = await measure(kind, users, rounds, solo_rounds)
        print(
            f"{kind:>4}: {users} conversations at once: {r['count']} updates in {r['elapsed']:.2f} s = "
            f"{r['rate']:7.1f} updates/s (latency under that load p50 {ms(r['loaded'], 50)}, p99 "
            f"{ms(r['loaded'], 99)}) · one conversation alone, {len(r['solo'])} steps: p50 {ms(r['solo'], 50)}, "
            f"p99 {ms(r['solo'], 99)} · server CPU {r['cpu_per_update'] * 1000:.1f} ms per update",
            flush=True,
        )
    ratio = results["bot"]["rate"] / results["echo"]["rate"]
    cpu_ratio = results["echo"]["cpu_per_update"] / results["bot"]["cpu_per_update"]
    print(f"server CPU per update, echo/bot = {cpu_ratio:.2f} (the rate ratio on an idle machine)")
    p99 = p(results["bot"]["solo"], 99) * 1000
    print(
        f"ratio bot/echo = {ratio:.2f} (goal >= 0.50: {'met' if ratio >= 0.5 else 'NOT met'}); "
        f"bot p99 step latency = {p99:.1f} ms (goal < 50 ms: {'met' if p99 < 50 else 'NOT met'})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30, help="conversations running at once")
    parser.add_argument(
        "--rounds", type=int, default=3, help="declarations per user (3: long enough for a steady echo baseline)"
    )
    parser.add_argument("--solo-rounds", type=int, default=5, help="declarations of the lone user (latency)")
    parser.add_argument("--serve", choices=["echo", "bot"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--missions", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.port, args.users, args.missions))
    else:
        asyncio.run(main(args.users, args.rounds, args.solo_rounds))
