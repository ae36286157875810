"""A whole declaration typed as people type on a phone: words where buttons are offered, units after numbers,
emoji in a city; what is not text (voice, location, contact, a photo too early) is answered for the screen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission, Receipt
from tests.bot.helpers import link, mission_start, person, png_bytes

U = 6101


def efm_of(number: str) -> EtatDeFrais:
    with session_scope() as session:
        efm = session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == number))
        session.expunge(efm)
        return efm


async def bot_texts(chat: ChatClient) -> list[str]:
    return [m["text"] for m in await chat.messages(U) if m["from"] == "bot"]


async def test_a_declaration_typed_without_touching_a_button(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = f"{mission_start('DEMO-101'):%d/%m/%Y}"
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    await chat.send(U, "Oui.")  # « ✅ Oui, effectuée »
    assert "Nombre de copies corrigées" in await chat.last_bot_text(U)
    await chat.send(U, "95 copies")
    await chat.send(U, f"{d0} 7h")
    await chat.send(U, "19 h 30")
    assert "Étape 4/8" in await chat.last_bot_text(U)
    await chat.send(U, "ajouter un trajet")
    await chat.send(U, f"{d0} 07h30")
    await chat.send(U, "🏠 saint-lô")  # the emoji is not part of the city
    await chat.send(U, "midi")
    await chat.send(U, "caen")
    await chat.send(U, "train")  # « Train, car ou transport en commun »
    assert "Trajet enregistré" in (await bot_texts(chat))[-2]
    assert f"1. {d0} 07:30 SAINT-LÔ → {d0} 12:00 CAEN" in await chat.last_bot_text(U)
    await chat.send(U, "Ajouter un trajet")
    await chat.send(U, f"{d0} 18h")
    await chat.send(U, "Caen")
    await chat.send(U, "19h")
    await chat.send(U, "Saint-Lô")
    await chat.send(U, "la voiture puis le train")  # two modes: one trip each, it is said
    assert "un seul moyen de transport" in (await bot_texts(chat))[-2]
    await chat.send(U, "en voiture")
    await chat.send(U, "62 kilomètres")
    await chat.send(U, "Continuer")
    await chat.send(U, "5 CV")
    await chat.send(U, "environ 1 500 km")  # the yearly distance, an estimate
    assert "Nuits d'hôtel" in await chat.last_bot_text(U)
    await chat.send(U, "aucune")  # nights
    await chat.send(U, "2 repas")
    await chat.send(U, "aucun")  # at the administrative restaurant: the button « Aucun »
    assert "Étape 6/8" in await chat.last_bot_text(U)
    await chat.send(U, "12€50")
    await chat.send(U, "par e-mail")  # words of « 📧 Je les enverrai par e-mail »
    assert "Envoyez vos justificatifs à recus+" in (await bot_texts(chat))[-2]
    await chat.send(U, "continuer")
    recap = await chat.last_bot_text(U)
    assert "Étape 8/8" in recap and "Repas : 1 repas × " in recap
    assert "2 repas déclaré(s), mais vos horaires (départ le " in recap  # why one of the two is counted
    await chat.send(U, "oui")  # names no button of the recap: asked to use them
    said = await bot_texts(chat)
    assert "boutons" in said[-2] and "Étape 8/8" in said[-1]
    await chat.send(U, "Valider")
    assert "confirmez avoir vérifié ces points" in await chat.last_bot_text(U)  # no receipt for the 12,50 €
    await chat.send(U, "je confirme")
    assert any("Numéro de dossier" in t for t in await bot_texts(chat))
    efm = efm_of("DEMO-101")
    assert efm.service_done is True and efm.copies == 95 and efm.nights == 0
    assert efm.meals == 2 and efm.admin_meals == 0 and str(efm.receipts_total) == "12.50" and efm.dossier_number
    assert efm.car_fiscal_hp == 5 and efm.car_yearly_km == 1500
    with session_scope() as session:
        trips = session.merge(efm).trips
        assert [(t.mode, t.distance_km) for t in trips] == [("transport_public", 0), ("voiture", 62)]


async def test_what_is_not_text_is_answered_for_the_screen_and_a_photo_is_kept(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = f"{mission_start('DEMO-101'):%d/%m/%Y}"
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    for send in (chat.voice, chat.location, chat.contact):  # a screen of buttons
        await send(U)
        said = await bot_texts(chat)
        assert "boutons" in said[-2] and "Avez-vous effectué cette mission ?" in said[-1]
    await chat.press(U, "Oui, effectuée")
    for send in (chat.voice, chat.location, chat.contact):  # a typed answer is expected
        await send(U)
        said = await bot_texts(chat)
        assert "par écrit" in said[-2] and "Nombre de copies corrigées" in said[-1]
    await chat.send(U, "120")
    await chat.upload(U, png_bytes(), "ticket.png", as_photo=True)  # a receipt before its step: kept
    said = await bot_texts(chat)
    assert "reçu" in said[-3] and "« Justificatifs »" in said[-2] and "Date et heure de départ" in said[-1]
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    await chat.press(U, "Continuer")
    await chat.press(U, "0")
    await chat.press(U, "0")
    await chat.send(U, "32,40")
    assert "1. photo-" in await chat.last_bot_text(U)  # at the receipts step, with the photo sent earlier
    await chat.voice(U)
    said = await bot_texts(chat)
    assert "Envoyez une photo ou un fichier" in said[-2] and "Étape 7/8" in said[-1]
    efm = efm_of("DEMO-101")
    with session_scope() as session:
        assert len(session.scalars(select(Receipt).where(Receipt.efm_id == efm.id)).all()) == 1


async def test_one_meal_answered_oui_and_the_card_answered_declarer(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = f"{mission_start('DEMO-103'):%d/%m/%Y}"
    await chat.send(U, "DEMO-103")  # words of its line in the list
    await chat.send(U, "déclarer")  # « ✍️ Déclarer / compléter ma saisie »
    await chat.send(U, "Oui, je l'ai faite")
    await chat.send(U, f"{d0} 10h")
    await chat.send(U, "20h")
    await chat.send(U, "continuer")
    await chat.send(U, "0")
    await chat.send(U, "1 repas")
    assert "Ce repas a-t-il été pris au restaurant administratif" in await chat.last_bot_text(U)
    await chat.send(U, "oui")  # « Oui, au restaurant administratif », though the screen also takes a number
    assert "Montant total de vos justificatifs" in await chat.last_bot_text(U)
    efm = efm_of("DEMO-103")
    assert efm.service_done is True and efm.meals == 1 and efm.admin_meals == 1


async def test_a_photo_sent_on_a_missions_card_is_that_missions_receipt(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await chat.press(U, "DEMO-102")
    await chat.upload(U, png_bytes(), "ticket.png", as_photo=True)
    said = await bot_texts(chat)
    assert "reçu" in said[-3] and "gardé avec cette mission" in said[-2] and "Mission n° DEMO-102" in said[-1]
    with session_scope() as session:
        kept = session.scalars(select(Receipt).where(Receipt.efm_id == efm_of("DEMO-102").id)).all()
        assert len(kept) == 1
        assert not session.scalars(select(Receipt).where(Receipt.efm_id == efm_of("DEMO-101").id)).all()


async def test_a_text_naming_no_button_is_told_the_few_answers(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await chat.press(U, "DEMO-102")
    await chat.press(U, "Déclarer")
    await chat.send(U, "peut-être")
    said = await bot_texts(chat)
    assert said[-2] == (
        "Répondez avec les boutons ci-dessous, s'il vous plaît : « ✅ Oui, effectuée » ou « ❌ Non effectuée » "
        "(ou /aide)."
    )
    assert "Avez-vous effectué cette mission ?" in said[-1] and efm_of("DEMO-102").service_done is None
    await chat.send(U, "oui")
    await chat.send(U, "douze")  # refused with the question's own example (candidates: 12, not copies' 25)
    said = await bot_texts(chat)
    assert said[-2].endswith("Exemple attendu : 12") and "Nombre de candidats interrogés" in said[-1]
