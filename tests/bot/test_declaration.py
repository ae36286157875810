"""A whole declaration from /start to the dossier number, through the emulator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission, Receipt
from tests.bot.helpers import link, mission_start, person, receipt_pdf

U = 1001


async def open_declaration(chat: ChatClient, number: str) -> None:
    await chat.press(U, number)
    await chat.press(U, "Déclarer")


async def test_whole_declaration_to_dossier_number(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-101")
    d0, d1 = day.strftime("%d/%m/%Y"), day.replace(day=day.day).strftime("%d/%m/%Y")
    await open_declaration(chat, "DEMO-101")
    text = await chat.last_bot_text(U)
    assert "Étape 1/8" in text and "Mission n° DEMO-101" in text and "LYCEE MALHERBE (0141274A)" in text
    await chat.press(U, "Oui, effectuée")
    assert "Étape 2/8" in await chat.last_bot_text(U)
    assert "Nombre de copies corrigées" in await chat.last_bot_text(U)
    await chat.send(U, "120")
    assert "Étape 3/8" in await chat.last_bot_text(U)
    await chat.press(U, "Retour")  # back to the previous step, with the saved answer shown
    text = await chat.last_bot_text(U)
    assert "Étape 2/8" in text and "Valeur actuelle : 120" in text
    await chat.press(U, "Garder : 120")
    text = await chat.last_bot_text(U)
    assert "Étape 3/8" in text and f"Exemple : {d0} 07:30" in text  # an example on the mission's day
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, f"{d1} 19:30")
    assert "Étape 4/8" in await chat.last_bot_text(U)
    await chat.press(U, "Ajouter un trajet")
    await chat.send(U, f"{d0} 07:00")
    await chat.press(U, "ST LO")
    await chat.send(U, "08:15")
    await chat.press(U, "CAEN")
    assert "Moyen de transport" in await chat.last_bot_text(U)
    await chat.press(U, "Véhicule personnel")
    await chat.send(U, "6 2")  # not a distance: asked again with the question's example
    assert "Exemple attendu : 62" in [m["text"] for m in await chat.messages(U)][-2]
    await chat.send(U, "62 km")  # the unit typed with the number is accepted
    assert "Trajet enregistré" in [m["text"] for m in await chat.messages(U)][-2]
    text = await chat.last_bot_text(U)
    assert "1. " in text and "ST LO → " in text and "CAEN" in text
    await chat.press(U, "Ajouter un trajet")
    await chat.send(U, f"{d1} 18:15")
    await chat.send(U, "Caen")
    await chat.send(U, f"{d1} 19:30")
    await chat.send(U, "Saint-Lô")
    await chat.press(U, "Véhicule personnel")
    await chat.send(U, "62")
    assert "2. " in await chat.last_bot_text(U)
    await chat.press(U, "Continuer")
    assert "puissance fiscale" in await chat.last_bot_text(U)
    await chat.press(U, "5")
    await chat.send(U, "1500")
    assert "Étape 5/8" in await chat.last_bot_text(U)
    await chat.press(U, "1")
    await chat.send(U, "89,00")
    await chat.press(U, "2")
    assert "Sur ces 2 repas, combien" in await chat.last_bot_text(U)
    assert await chat.buttons(U) == ["Aucun", "1 sur 2", "Tous les 2", "⬅️ Retour", "✖️ Annuler"]  # no bare 0 / 1
    await chat.press(U, "Aucun")
    assert "Étape 6/8" in await chat.last_bot_text(U)
    await chat.send(U, "121,40 €")
    assert "Étape 7/8" in await chat.last_bot_text(U)
    await chat.press(U, "Je les enverrai par e-mail")
    mail = [m["text"] for m in await chat.messages(U)][-2]
    assert "recus+" in mail and "@imagin.localhost" in mail and "« Mission DEMO-101 »" in mail
    await chat.upload(U, receipt_pdf(), "billets.pdf")
    assert any("« billets.pdf » reçu" in m["text"] for m in await chat.messages(U))
    await chat.press(U, "Continuer")
    recap = await chat.last_bot_text(U)
    assert "Étape 8/8" in recap and "Estimation" in recap and "Total estimé" in recap
    assert "121,40 €" in recap and "billets.pdf" in recap and "124 km" in recap  # 2 × 62 km by car
    assert "120 copies ×" in recap
    await chat.press(U, "Valider ma déclaration")
    messages = await chat.messages(U)
    confirmation = next(m["text"] for m in messages if "Numéro de dossier" in m["text"])
    with session_scope() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == "DEMO-101"))
        assert efm.dossier_number and efm.dossier_number in confirmation
        assert efm.copies == 120 and len(efm.trips) == 2 and efm.nights == 1 and efm.meals == 2
        assert str(efm.receipts_total) == "121.40"
        assert [t.arrive_city for t in efm.trips] == ["CAEN", "SAINT-LÔ"]
        assert [t.distance_km for t in efm.trips] == [62, 62] and efm.car_fiscal_hp == 5 and efm.car_yearly_km == 1500
        assert session.scalar(select(Receipt.original_name).where(Receipt.efm_id == efm.id)) == "billets.pdf"
    pdf = [m for m in messages if m["document"] and m["from"] == "bot"]
    assert pdf and pdf[-1]["document"]["name"].endswith(".pdf") and pdf[-1]["document"]["size"] > 500


async def test_mission_not_done_goes_straight_to_the_recap(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await open_declaration(chat, "DEMO-103")  # a jury: no quantity asked
    await chat.press(U, "Non effectuée")
    recap = await chat.last_bot_text(U)
    assert "Étape 2/2" in recap and "Mission effectuée : non" in recap
    await chat.press(U, "Annuler")
    assert "vos réponses sont enregistrées" in [m["text"] for m in await chat.messages(U)][-2].lower()
    await chat.press(U, "Déclarer")
    assert "Étape 2/2" in await chat.last_bot_text(U)  # resumed
    await chat.press(U, "Valider ma déclaration")
    assert any("Numéro de dossier" in m["text"] for m in await chat.messages(U))
    await chat.press(U, "Recevoir le récapitulatif")
    assert (await chat.messages(U))[-1]["document"]["name"].startswith("recapitulatif-")
    assert "Déclarer" not in " ".join(await chat.buttons(U))  # validated: read-only
