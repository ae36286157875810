"""FSM storage that survives restarts (SQL, Redis), the recap PDF, and run_bot's start and stop."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pdfplumber
import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from bot.storage import SqlStorage, make_storage
from core.db import get_engine, session_scope
from core.models import Convocation, EtatDeFrais, Mission
from core.recap_pdf import render_recap_pdf

KEY = StorageKey(bot_id=1, chat_id=10, user_id=10, destiny="aiogd_stack")


async def test_sql_storage_survives_a_new_instance(any_db: Any) -> None:
    """Written, overwritten (the saved row replaced), read by a new instance, then deleted: SQLite and PostgreSQL."""
    first = SqlStorage(get_engine())
    await first.set_state(KEY, "Declare:done")
    await first.set_data(KEY, {"history": [], "efm_id": 3})
    await first.flush()
    await first.set_state(KEY, "Declare:trips")
    await first.set_data(KEY, {"history": ["Declare:done"], "efm_id": 3})
    await first.close()
    second = SqlStorage(get_engine())
    assert await second.get_state(KEY) == "Declare:trips"
    assert await second.get_data(KEY) == {"history": ["Declare:done"], "efm_id": 3}
    other = StorageKey(bot_id=1, chat_id=11, user_id=11, destiny="aiogd_stack")
    assert await second.get_state(other) is None and await second.get_data(other) == {}
    await second.set_state(KEY, None)
    await second.set_data(KEY, {})
    await second.flush()
    assert await SqlStorage(get_engine()).get_data(KEY) == {}


@pytest.mark.redis
async def test_redis_storage_when_configured(db: Any, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiogram.fsm.storage.redis import RedisStorage

    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_REDIS_URL", redis_url)
    reset_settings()
    storage = make_storage()
    assert isinstance(storage, RedisStorage)
    await storage.set_data(KEY, {"efm_id": 5})
    await storage.close()
    again = make_storage()
    assert await again.get_data(KEY) == {"efm_id": 5}
    await again.close()


def test_recap_pdf_has_the_declaration_estimate_and_flags(demo: dict[str, Any], tmp_path: Any) -> None:
    from core import declarations

    with session_scope() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == "DEMO-101"))
        start = efm.convocation.mission.start_at
        declarations.set_service_done(session, efm, True, "test")
        declarations.set_quantity(session, efm, 100, "test")
        declarations.set_times(session, efm, start.replace(hour=7), start.replace(hour=19), "test")
        declarations.add_trip(session, efm, start.replace(hour=7), "ST LO", start.replace(hour=8), "CAEN", "test")
        declarations.set_receipts_total(session, efm, __import__("decimal").Decimal("80.00"), "test")
        session.flush()
        data = render_recap_pdf(session, efm.id)
    assert data.startswith(b"%PDF-")
    path = tmp_path / "recap.pdf"
    path.write_bytes(data)
    with pdfplumber.open(path) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "État de frais de mission" in text and "n° DEMO-101" in text
    assert "LYCEE MALHERBE (0141274A)" in text and "Nombre de copies corrigées 100" in text
    assert "ST LO" in text and "Total estimé" in text and "80,00 €" in text
    assert "Points à vérifier" in text  # receipts declared but none received


async def test_run_bot_serves_the_emulator_and_stops(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from bot.runner import run_bot
    from core.settings import reset_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("IMAGIN_EMULATOR_PORT", str(port))
    reset_settings()
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(stop))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/") as resp:
                    assert "émulateur" in await resp.text()
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
        async with http.post(f"{base}/emulator/api/send", json={"user_id": 1, "text": "/start", "wait": True}) as r:
            assert (await r.json())["acked"] is True
        async with http.get(f"{base}/emulator/api/chat", params={"user_id": "1"}) as r:
            assert "identifiant figurant sur votre convocation" in (await r.json())["messages"][-1]["text"]
    stop.set()
    await asyncio.wait_for(task, 30)


async def test_run_bot_in_webhook_mode(demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from bot.runner import run_bot
    from core.settings import reset_settings

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    monkeypatch.setenv("IMAGIN_EMULATOR_PORT", str(ports[0]))
    monkeypatch.setenv("IMAGIN_BOT_WEBHOOK_URL", f"http://127.0.0.1:{ports[1]}/telegram/webhook")
    monkeypatch.setenv("IMAGIN_BOT_WEBHOOK_PORT", str(ports[1]))
    monkeypatch.setenv("IMAGIN_BOT_WEBHOOK_SECRET", "un-secret-de-test")
    reset_settings()
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(stop))
    base = f"http://127.0.0.1:{ports[0]}"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/bot0:x/getWebhookInfo") as resp:
                    if (await resp.json())["result"]["url"]:
                        break
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
        async with http.post(f"{base}/emulator/api/send", json={"user_id": 2, "text": "/start", "wait": True}) as r:
            answer = await r.json()
        assert answer["acked"] is True
        assert "identifiant figurant sur votre convocation" in answer["last"][-1]["text"]
    stop.set()
    await asyncio.wait_for(task, 30)


@pytest.mark.postgres
async def test_declaration_steps_on_postgresql(pg_db: Any) -> None:
    """The chat on PostgreSQL: link, first steps, a restart, and the draft is there."""
    from core.demo import seed_demo
    from tests.bot.conftest import RunningBot, start_emulator
    from tests.bot.helpers import link, mission_start

    with pg_db() as session:
        demo = seed_demo(session)
    emulator = await start_emulator()
    async with aiohttp.ClientSession() as http:
        from bot.emulator.client import ChatClient

        app = RunningBot(emulator, ChatClient(emulator.url, http))
        await app.start()
        try:
            chat, p = app.chat, demo["intervenants"][0]
            await link(chat, 9001, p["numero"], p["mot_de_passe"])
            await chat.press(9001, "DEMO-101")
            await chat.press(9001, "Déclarer")
            await chat.press(9001, "Oui, effectuée")
            await chat.send(9001, "64")
            await app.restart()
            d0 = mission_start("DEMO-101").strftime("%d/%m/%Y")
            await chat.send(9001, f"{d0} 07:00")
            assert "Date et heure de retour" in await chat.last_bot_text(9001)
        finally:
            await app.stop()
            await emulator.stop()
    with pg_db() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == "DEMO-101"))
        assert efm.copies == 64 and efm.service_done is True
