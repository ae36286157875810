"""Changing answers from the recap, keeping current answers, and what is said once the dossier is sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission, OutboxMessage
from tests.bot.helpers import link, mission_start, person

U = 3003


def efm_of(number: str) -> EtatDeFrais:
    with session_scope() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == number))
        _ = list(efm.trips)
        return efm


async def texts(chat: ChatClient) -> list[str]:
    return [m["text"] for m in await chat.messages(U) if m["from"] == "bot" and m["text"]]


async def declare_a_jury(chat: ChatClient, d0: str) -> None:
    """DEMO-103 (a jury: no quantity) answered up to the recap: one train trip, one night, one meal."""
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    assert "Étape 2/7" in await chat.last_bot_text(U)
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    await chat.press(U, "Ajouter un trajet")
    await chat.send(U, f"{d0} 07:10")
    await chat.press(U, "ST LO")
    await chat.send(U, "08:20")
    await chat.press(U, "CAEN")
    await chat.press(U, "Train")
    await chat.press(U, "Continuer")
    await chat.press(U, "1")  # one night
    await chat.send(U, "89,00")
    await chat.press(U, "1")  # one meal: the half-price question in words
    assert "Ce repas a-t-il été pris au restaurant administratif" in await chat.last_bot_text(U)
    assert await chat.buttons(U) == ["Oui, au restaurant administratif", "Non", "⬅️ Retour", "✖️ Annuler"]
    await chat.press(U, "Non")
    await chat.send(U, "12,50")
    await chat.press(U, "Continuer")
    assert "Étape 7/7" in await chat.last_bot_text(U)


async def test_each_recap_line_opens_its_step_keeps_answers_and_comes_back(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = mission_start("DEMO-103").strftime("%d/%m/%Y")
    await declare_a_jury(chat, d0)
    labels = await chat.buttons(U)
    for title in ("Mission effectuée", "Horaires de départ et de retour", "Trajets", "Hébergement et repas"):
        assert f"✏️ {title}" in labels, labels

    await chat.press(U, "Horaires de départ et de retour")  # both times offered to keep, one by one
    labels = await chat.buttons(U)
    assert "➡️ Garder les horaires actuels" in labels and f"➡️ Garder : {d0} 07:00" in labels
    await chat.press(U, f"Garder : {d0} 07:00")
    assert f"➡️ Garder : {d0} 19:00" in await chat.buttons(U)
    await chat.send(U, "20:00")
    assert "Étape 7/7" in await chat.last_bot_text(U)  # straight back to the recap
    efm = efm_of("DEMO-103")
    assert (efm.departure_at.hour, efm.return_at.hour) == (7, 20)

    await chat.press(U, "Hébergement et repas")  # four taps to change one answer
    await chat.press(U, "Garder : 1 nuit(s)")
    await chat.press(U, "Garder : 89,00 €")
    await chat.press(U, "Garder : 1 repas")
    await chat.press(U, "Oui, au restaurant administratif")
    assert "Étape 7/7" in await chat.last_bot_text(U)
    efm = efm_of("DEMO-103")
    assert (efm.nights, str(efm.lodging_amount), efm.meals, efm.admin_meals) == (1, "89.00", 1, 1)

    await chat.press(U, "Trajets")  # every field of a trip can be kept
    await chat.press(U, "✏️ 1")
    await chat.press(U, f"Garder : {d0} 07:10")
    await chat.press(U, "Garder : ST LO")
    await chat.press(U, f"Garder : {d0} 08:20")
    assert "➡️ Garder : CAEN" in await chat.buttons(U)
    await chat.send(U, "Bayeux")
    await chat.press(U, "Garder : Train")
    assert "✅ Trajet enregistré." in await texts(chat)
    await chat.press(U, "Continuer")
    assert "Étape 7/7" in await chat.last_bot_text(U)
    trip = efm_of("DEMO-103").trips[0]
    assert (trip.depart_city, trip.arrive_city, trip.mode) == ("ST LO", "BAYEUX", "transport_public")
    assert (trip.depart_at.strftime("%d/%m/%Y %H:%M"), trip.arrive_at.strftime("%H:%M")) == (f"{d0} 07:10", "08:20")


async def test_one_message_once_sent_and_sent_is_not_validated(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Non effectuée")
    before = len(await texts(chat))
    await chat.press(U, "Valider ma déclaration")
    said = (await texts(chat))[before:]
    assert sum("Numéro de dossier" in t for t in said) == 1, said
    assert not any("validé" in t for t in said), said  # sent to the DEC, not validated by it
    assert any("envoyé à la DEC" in t for t in said)
    with session_scope() as session:  # and no second message waiting in the outbox for the chat
        kinds = session.scalars(select(OutboxMessage.kind).where(OutboxMessage.recipient == str(U))).all()
        assert "dossier_submitted" not in kinds
    await chat.send(U, "/missions")
    listing = await chat.buttons(U)
    assert any(label.startswith("📨 N° DEMO-103") for label in listing), listing
    assert not any(label.startswith("✅") for label in listing)
    assert "📨 envoyée à la DEC" in await chat.last_bot_text(U)
