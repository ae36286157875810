"""The chef de centre's service fait attestation (throttled linking: tests/bot/test_trust.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission, OutboxMessage, ServiceFait
from tests.bot.helpers import link, person


def _day_of(number: str) -> str:
    with session_scope() as session:
        return session.scalar(select(Mission.start_at).where(Mission.number == number)).strftime("%d/%m/%Y")


def _attested() -> dict[str, bool]:
    with session_scope() as session:
        rows = session.execute(
            select(Mission.number, ServiceFait.done)
            .join(Convocation)
            .join(EtatDeFrais)
            .join(ServiceFait, ServiceFait.efm_id == EtatDeFrais.id)
        )
        return {number: done for number, done in rows}


async def test_chef_de_centre_confirms_sees_declared_and_undoes(chat: ChatClient, demo: dict[str, Any]) -> None:
    chef = next(c for c in demo["chefs_de_centre"] if c["login"] == "chef.0141274a")
    with session_scope() as session:  # MARTIN declared DEMO-102: quantity and times to show the chef
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == "DEMO-102"))
        start = efm.convocation.mission.start_at
        efm.service_done, efm.candidates = True, 12  # an oral: candidates examined
        efm.departure_at, efm.return_at = start - timedelta(hours=1), start + timedelta(hours=9)
    await link(chat, 7001, chef["login"], chef["mot_de_passe"])
    assert "LYCEE MALHERBE" in await chat.last_bot_text(7001)
    day = _day_of("DEMO-103")  # DEMO-102 and DEMO-103 are MARTIN's, on the same day
    labels = await chat.buttons(7001)
    assert f"{day} · 1 intervenant, 2 missions · 2 à attester" in labels, labels  # people counted once
    await chat.press(7001, day)
    text = await chat.last_bot_text(7001)
    assert "1. " in text and "2. " not in text and "MARTIN" in text and "DEMO-301" not in text
    departure = f"{start - timedelta(hours=1):%d/%m/%Y %H:%M}"
    assert f"Déclaré : 12 candidats, départ {departure}" in text
    assert "Déclaré : rien déclaré pour l'instant" in text  # DEMO-103
    await chat.press(7001, "(n° DEMO-102)")
    confirm = await chat.last_bot_text(7001)
    assert "La mission a-t-elle été effectuée ?" in confirm and "12 candidats" in confirm
    assert _attested() == {}  # a tap alone attests nothing
    assert {"✅ Effectué", "❌ Non effectué"} <= set(await chat.buttons(7001))
    await chat.press(7001, "❌ Non effectué")
    assert "Service fait attesté : ❌ non effectué, pour 1 intervenant." in await chat.last_bot_text(7001)
    assert _attested() == {"DEMO-102": False}
    await chat.press(7001, "Annuler cette attestation")
    assert "Attestation annulée (1 mission)" in [m["text"] for m in await chat.messages(7001)][-2]
    assert _attested() == {}
    with session_scope() as session:  # the notification not yet delivered was withdrawn
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "service_fait")).all()
    await chat.press(7001, "(n° DEMO-102)")
    await chat.press(7001, "✅ Effectué")
    assert "✅ effectué, pour 1 intervenant" in await chat.last_bot_text(7001)
    await chat.press(7001, "Retour à la journée")
    assert "✅ effectué (attesté)" in await chat.last_bot_text(7001)
    assert not any("DEMO-102" in b for b in await chat.buttons(7001))
    assert _attested() == {"DEMO-102": True}


async def test_missions_yet_to_begin_cannot_be_attested(chat: ChatClient, demo: dict[str, Any]) -> None:
    chef = next(c for c in demo["chefs_de_centre"] if c["login"] == "chef.0141274a")
    later = (datetime.now() + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    with session_scope() as session:
        session.scalar(select(Mission).where(Mission.number == "DEMO-103")).start_at = later
    await link(chat, 7004, chef["login"], chef["mot_de_passe"])
    assert f"{later:%d/%m/%Y} · 1 intervenant · à venir" in await chat.buttons(7004)
    await chat.press(7004, f"{later:%d/%m/%Y}")
    text = await chat.last_bot_text(7004)
    assert f"DEMO-103 (Jury de délibération, 14:00) : 🕒 à attester à partir du {later:%d/%m à %H:%M}" in text
    assert not any("Attester" in label for label in await chat.buttons(7004))


async def test_chef_attests_everyone_at_once_after_confirming(chat: ChatClient, demo: dict[str, Any]) -> None:
    chef = next(c for c in demo["chefs_de_centre"] if c["login"] == "chef.0141274a")
    await link(chat, 7002, chef["login"], chef["mot_de_passe"])
    await chat.press(7002, _day_of("DEMO-103"))
    await chat.press(7002, "Attester tout le monde")
    assert "Ces missions ont-elles été effectuées ?" in await chat.last_bot_text(7002)
    await chat.press(7002, "Retour sans attester")
    assert _attested() == {}
    await chat.press(7002, "Attester tout le monde")
    await chat.press(7002, "✅ Effectué")
    assert "pour 1 intervenant, 2 missions" in await chat.last_bot_text(7002)
    assert _attested() == {"DEMO-102": True, "DEMO-103": True}
    # an intervenant cannot reach the chef's screens
    p = person(demo, 0)
    await link(chat, 7003, p["numero"], p["mot_de_passe"])
    assert "Attester" not in " ".join(await chat.buttons(7003))
