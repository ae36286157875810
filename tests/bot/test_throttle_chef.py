"""Throttled linking, and the chef de centre's service fait attestation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Centre, Convocation, EtatDeFrais, Mission, ServiceFait
from tests.bot.helpers import link, person


async def test_failed_links_are_throttled_per_chat_and_identifier(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await chat.send(6001, "/start")
    for attempt in range(5):
        await chat.send(6001, p["numero"])
        await chat.send(6001, f"mauvais{attempt}")
        assert "incorrect" in [m["text"] for m in await chat.messages(6001)][-2]
    await chat.send(6001, p["numero"])
    await chat.send(6001, p["mot_de_passe"])  # even the right password is refused now
    texts = [m["text"] for m in await chat.messages(6001)]
    assert "Trop de tentatives" in texts[-2] and "réessayez dans 15 minutes" in texts[-2]
    assert p["mot_de_passe"] not in texts and "mauvais0" not in texts  # secrets were deleted
    # the identifier is throttled from another chat too
    await chat.send(6002, "/start")
    await chat.send(6002, p["numero"])
    await chat.send(6002, p["mot_de_passe"])
    assert "Trop de tentatives" in [m["text"] for m in await chat.messages(6002)][-2]
    # another identifier from a fresh chat still links
    other = person(demo, 1)
    await link(chat, 6003, other["numero"], other["mot_de_passe"])


async def test_chef_de_centre_attests_one_then_all(chat: ChatClient, demo: dict[str, Any]) -> None:
    chef = next(c for c in demo["chefs_de_centre"] if c["login"] == "chef.0141274a")
    await link(chat, 7001, chef["login"], chef["mot_de_passe"])
    text = await chat.last_bot_text(7001)
    assert "LYCEE MALHERBE" in text
    labels = await chat.buttons(7001)
    assert any("à attester" in label for label in labels)
    with session_scope() as session:
        centre_id = session.scalar(select(Centre.id).where(Centre.code == "0141274A"))
        missions = session.scalars(select(Mission).where(Mission.centre_id == centre_id))
        days = sorted({m.start_at.date() for m in missions})
    day_label = days[-1].strftime("%d/%m/%Y")  # DEMO-102 and DEMO-103 are on the same day
    await chat.press(7001, day_label)
    text = await chat.last_bot_text(7001)
    assert "MARTIN" in text and "DEMO-102" in text and "DEMO-103" in text and "DEMO-301" not in text
    await chat.press(7001, "(n° DEMO-102)")
    assert "attesté pour 1 intervenant" in [m["text"] for m in await chat.messages(7001)][-2]
    await chat.press(7001, "DEMO-103")
    assert not any("Attester" in b for b in await chat.buttons(7001) if "DEMO" in b)
    await chat.press(7001, "Autres dates")
    await chat.press(7001, days[0].strftime("%d/%m/%Y"))
    with session_scope() as session:
        attested = set(
            session.scalars(
                select(Mission.number)
                .join(Convocation)
                .join(EtatDeFrais)
                .join(ServiceFait, ServiceFait.efm_id == EtatDeFrais.id)
            )
        )
    assert attested == {"DEMO-102", "DEMO-103"}


async def test_missions_yet_to_begin_cannot_be_attested(chat: ChatClient, demo: dict[str, Any]) -> None:
    chef = next(c for c in demo["chefs_de_centre"] if c["login"] == "chef.0141274a")
    later = (datetime.now() + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    with session_scope() as session:
        session.scalar(select(Mission).where(Mission.number == "DEMO-103")).start_at = later
    await link(chat, 7004, chef["login"], chef["mot_de_passe"])
    assert f"{later:%d/%m/%Y} · 1 intervenant(s) · à venir" in await chat.buttons(7004)
    await chat.press(7004, f"{later:%d/%m/%Y}")
    text = await chat.last_bot_text(7004)
    assert f"DEMO-103 (Jury de délibération, 14:00) : 🕒 à attester à partir du {later:%d/%m à %H:%M}" in text
    assert not any("Attester" in label for label in await chat.buttons(7004))


async def test_chef_attests_everyone_at_once(chat: ChatClient, demo: dict[str, Any]) -> None:
    chef = next(c for c in demo["chefs_de_centre"] if c["login"] == "chef.0141274a")
    await link(chat, 7002, chef["login"], chef["mot_de_passe"])
    with session_scope() as session:
        day = session.scalar(select(Mission.start_at).where(Mission.number == "DEMO-103"))
    await chat.press(7002, day.strftime("%d/%m/%Y"))
    await chat.press(7002, "Attester tout le monde")
    assert "attesté pour 2 intervenant" in [m["text"] for m in await chat.messages(7002)][-2]
    # an intervenant cannot reach the chef's screens
    p = person(demo, 0)
    await link(chat, 7003, p["numero"], p["mot_de_passe"])
    assert "Attester" not in " ".join(await chat.buttons(7003))
