"""Navigation a careful tester tries: an old message's button after moving on, two declarations in turn, two
people declaring at once (each sees only their own dossier)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission
from tests.bot.conftest import RunningBot
from tests.bot.helpers import link, mission_start, person, up_to_the_trips

U = 6301


async def grab(chat: ChatClient, user: int, label: str) -> tuple[int, str]:
    """The message and data of the latest button whose text contains `label` (to press it later, stale)."""
    for message in reversed(await chat.messages(user)):
        for button in (b for row in message["buttons"] for b in row):
            if label in button["text"]:
                return message["id"], button["data"]
    raise AssertionError(f"no button {label!r}")


async def test_an_old_button_of_a_finished_trip_keeps_the_declaration(chat: ChatClient, demo: dict[str, Any]) -> None:
    d0 = await up_to_the_trips(chat, U, person(demo, 0), "DEMO-101", "120")
    await chat.press(U, "Ajouter un trajet")
    leave = await grab(chat, U, "Laisser ce trajet")  # a button of the trip's own screens
    await chat.send(U, f"{d0} 07:10")
    await chat.send(U, "Saint-Lô")
    await chat.send(U, "08:20")
    await chat.send(U, "Caen")
    await chat.press(U, "Train")
    await chat.press(U, "Continuer")
    await chat.press(U, "1")  # one night: the lodging amount is asked
    assert "montant total de l'hébergement" in await chat.last_bot_text(U)
    await chat.press_data(U, *leave, forged=True)  # that trip is saved and its screens closed: an old client
    assert "montant total de l'hébergement" in await chat.last_bot_text(U)  # still in the declaration
    await chat.send(U, "80")
    assert "Repas pris à vos frais" in await chat.last_bot_text(U)


def dossier_of(number: str) -> str:
    with session_scope() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == number))
        return efm.dossier_number or ""


async def _declare(chat: ChatClient, user: int, number: str, copies: str) -> None:
    """A short whole declaration (no trip, nothing spent), each answer awaited before the next."""
    day = f"{mission_start(number):%d/%m/%Y}"
    await chat.press(user, number)
    await chat.press(user, "Déclarer")
    for step in ("Oui, effectuée", copies, f"{day} 07:00", "19:00", "Continuer", "0", "0"):
        await (chat.send(user, step) if step[0].isdigit() else chat.press(user, step))
    await chat.press(user, "Aucun justificatif")  # no receipt to send: the recap comes next
    await chat.press(user, "Valider ma déclaration")
    if "Je confirme" in " ".join(await chat.buttons(user)):
        await chat.press(user, "Je confirme")


async def test_two_people_declaring_at_once_each_see_only_their_dossier(
    running: RunningBot, demo: dict[str, Any]
) -> None:
    chat = running.chat
    a, b = person(demo, 0), person(demo, 2)  # D1001 (DEMO-101), D1003 (DEMO-301)
    await asyncio.gather(
        link(chat, 6401, a["numero"], a["mot_de_passe"]), link(chat, 6403, b["numero"], b["mot_de_passe"], "Autre2026")
    )
    await asyncio.gather(_declare(chat, 6401, "DEMO-101", "77"), _declare(chat, 6403, "DEMO-301", "33"))
    mine_a, mine_b = dossier_of("DEMO-101"), dossier_of("DEMO-301")
    assert mine_a and mine_b and mine_a != mine_b
    chat_a = " ".join(m["text"] + str(m["buttons"]) for m in await chat.messages(6401))
    chat_b = " ".join(m["text"] + str(m["buttons"]) for m in await chat.messages(6403))
    assert f"Numéro de dossier : {mine_a}" in chat_a and mine_b not in chat_a and "DEMO-301" not in chat_a
    assert f"Numéro de dossier : {mine_b}" in chat_b and mine_a not in chat_b and "DEMO-101" not in chat_b
    assert "77 copies" in chat_a and "33 copies" in chat_b and "LEROY" not in chat_a and "MARTIN" not in chat_b


async def test_a_second_mission_begun_while_the_first_is_half_done(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, "120")  # DEMO-101 left at its times
    await chat.send(U, "/missions")
    await chat.press(U, "DEMO-102")
    await chat.press(U, "Déclarer")
    await chat.send(U, "oui")
    await chat.send(U, "12 candidats")  # DEMO-102 left at its times too
    await chat.send(U, "/start")
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")  # each resumes at its own step with its own answers
    text = await chat.last_bot_text(U)
    assert "Mission n° DEMO-101 – Étape 3/8" in text
    await chat.press(U, "Retour")
    assert "Valeur actuelle : 120" in await chat.last_bot_text(U)
    await chat.send(U, "/annuler")
    await chat.press(U, "DEMO-102")
    await chat.press(U, "Déclarer")
    assert "Mission n° DEMO-102 – Étape 3/8" in await chat.last_bot_text(U)
    await chat.press(U, "Retour")
    assert "Valeur actuelle : 12" in await chat.last_bot_text(U)


async def test_a_step_opened_from_the_recap_and_left_with_retour_is_no_longer_an_edit(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    await up_to_the_trips(chat, U, person(demo, 0), "DEMO-101", "120")
    await chat.press(U, "Continuer")
    await chat.press(U, "0")
    await chat.press(U, "0")
    await chat.press(U, "Aucun justificatif")  # no receipt to send: the recap comes next
    assert "Étape 7/7" in await chat.last_bot_text(U)
    await chat.press(U, "Quantité")  # opened from the recap: once answered, back to the recap
    await chat.press(U, "Retour")  # ... but left unanswered
    assert "Étape 7/7" in await chat.last_bot_text(U)
    await chat.press(U, "Revoir depuis le début")
    await chat.press(U, "Oui, effectuée")  # every step in order: the quantity next, not the recap
    assert "Étape 2/7" in await chat.last_bot_text(U)
    await chat.press(U, "Garder : 120")
    assert "Étape 3/7" in await chat.last_bot_text(U)
    await chat.press(U, "Garder les horaires actuels")
    assert "Étape 4/7" in await chat.last_bot_text(U)


async def test_retour_from_the_recap_walks_back_every_screen_in_order(chat: ChatClient, demo: dict[str, Any]) -> None:
    d0 = await up_to_the_trips(chat, U, person(demo, 0), "DEMO-101", "120")
    await chat.press(U, "Ajouter un trajet")
    for typed in (f"{d0} 07:10", "St Lo", "8h", "Caen"):
        await chat.send(U, typed)
    await chat.press(U, "Véhicule personnel")
    await chat.send(U, "62")
    await chat.press(U, "Continuer")
    await chat.press(U, "5 CV")
    await chat.send(U, "1500")
    await chat.press(U, "1")
    await chat.send(U, "80")
    await chat.press(U, "2")
    await chat.press(U, "Aucun")
    await chat.send(U, "30")
    await chat.press(U, "Continuer")
    expected = [
        "Justificatifs :",
        "Montant total de vos justificatifs",
        "Sur ces 2 repas, combien",
        "Repas pris à vos frais",
        "montant total de l'hébergement",
        "Nuits d'hôtel payées par vous",
        "Kilomètres déjà parcourus",
        "puissance fiscale",
        "Vos trajets",
        "Date et heure de retour",
        "Date et heure de départ",
        "Nombre de copies corrigées",
        "Avez-vous effectué cette mission ?",
        "Statut frais de rémunération",  # out of the declaration: the mission's card
    ]
    assert "Étape 8/8" in await chat.last_bot_text(U)
    for screen in expected:
        await chat.press(U, "Retour")
        assert screen in await chat.last_bot_text(U), screen
    await chat.press(U, "Déclarer")  # nothing was lost on the way back: resumed at the recap, every answer there
    recap = await chat.last_bot_text(U)
    assert "Étape 8/8" in recap and "ST LO → " in recap and "Nuitées : 1 (80,00 €)" in recap and "Repas : 2" in recap
