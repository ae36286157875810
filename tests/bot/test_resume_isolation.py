"""Drafts survive a bot restart; two intervenants chatting at once stay isolated."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission
from tests.bot.conftest import RunningBot
from tests.bot.helpers import link, mission_start, person


async def test_restart_in_the_middle_resumes_the_draft(running: RunningBot, demo: dict[str, Any]) -> None:
    chat, u = running.chat, 3003
    p = person(demo, 0)
    await link(chat, u, p["numero"], p["mot_de_passe"])
    d0 = mission_start("DEMO-101").strftime("%d/%m/%Y")
    await chat.press(u, "DEMO-101")
    await chat.press(u, "Déclarer")
    await chat.press(u, "Oui, effectuée")
    await chat.send(u, "118")
    await chat.send(u, f"{d0} 07:00")  # departure typed, return not yet

    await running.restart()  # a new bot process: nothing kept in memory
    await chat.send(u, f"{d0} 18:00")
    assert "Étape 4/8" in await chat.last_bot_text(u)  # the dialog went on where it was

    await running.restart()
    await chat.send(u, "/start")  # coming back later, from the menu
    await chat.press(u, "DEMO-101")
    await chat.press(u, "Déclarer")
    texts = [m["text"] for m in await chat.messages(u)]
    assert any("Reprise de votre saisie" in t for t in texts)
    assert "Étape 4/8" in texts[-1]
    with session_scope() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == "DEMO-101"))
        assert efm.copies == 118 and efm.departure_at is not None and efm.return_at.hour == 18


async def _declare_quantity(chat: ChatClient, user: int, number: str, quantity: str) -> None:
    await chat.press(user, number)
    await chat.press(user, "Déclarer")
    await chat.press(user, "Oui, effectuée")
    await chat.send(user, quantity)


async def test_two_intervenants_at_once_stay_isolated(running: RunningBot, demo: dict[str, Any]) -> None:
    chat = running.chat
    a, b = person(demo, 0), person(demo, 2)  # D1001 (DEMO-101..103), D1003 (DEMO-301)
    await asyncio.gather(
        link(chat, 4001, a["numero"], a["mot_de_passe"]),
        link(chat, 4003, b["numero"], b["mot_de_passe"], "Autre2026code"),
    )
    await asyncio.gather(
        _declare_quantity(chat, 4001, "DEMO-101", "77"), _declare_quantity(chat, 4003, "DEMO-301", "33")
    )
    chat_a = " ".join(m["text"] + str(m["buttons"]) for m in await chat.messages(4001))
    chat_b = " ".join(m["text"] + str(m["buttons"]) for m in await chat.messages(4003))
    assert "DEMO-301" not in chat_a and "LEROY" not in chat_a
    assert "DEMO-101" not in chat_b and "MARTIN" not in chat_b
    with session_scope() as session:
        copies = dict(
            session.execute(
                select(Mission.number, EtatDeFrais.copies)
                .join(Convocation, EtatDeFrais.convocation_id == Convocation.id)
                .join(Mission, Convocation.mission_id == Mission.id)
            ).all()
        )
    assert copies["DEMO-101"] == 77 and copies["DEMO-301"] == 33


async def test_unlinked_chat_sees_only_the_linking_step(chat: ChatClient, demo: dict[str, Any]) -> None:
    await chat.send(5005, "/missions")
    await chat.send(5005, "bonjour")
    texts = " ".join(m["text"] for m in await chat.messages(5005))
    assert "DEMO-" not in texts and "relier votre compte" in texts
    assert "« bonjour » n'est pas un identifiant" in texts  # a greeting is not taken for an identifier
    assert "Étape 2/3" not in texts  # never asked for a password


async def test_unlink_then_only_linking_and_buttons_only_steps(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 2)
    await link(chat, 5006, p["numero"], p["mot_de_passe"])
    await chat.press(5006, "DEMO-301")
    await chat.press(5006, "Déclarer")
    await chat.send(5006, "peut-être")  # names none of the buttons: they are shown again
    texts = [m["text"] for m in await chat.messages(5006)]
    assert "boutons" in texts[-2] and "Étape 1/8" in texts[-1], texts[-4:]
    await chat.send(5006, "/deconnexion")
    await chat.send(5006, "/missions")
    texts = " ".join(m["text"] for m in (await chat.messages(5006))[-3:])
    assert "n'est plus relié" in texts and "identifiant figurant sur votre convocation" in texts
    assert "DEMO-301" not in await chat.last_bot_text(5006)
