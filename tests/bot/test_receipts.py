"""Receipts in the chat, through the emulator and the real OCR: the list of lines (kind, amount, what each
justifies), one receipt confirmed or corrected in one tap, removed, replaced, moved; HEIC and big photos; several
photos joined into one PDF."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

import ocr
from bot.emulator.client import ChatClient
from core import estimates, jobs, justification, receipts
from core.db import session_scope
from core.filestore import receipt_store
from core.models import Convocation, EtatDeFrais, LineState, Mission, Receipt
from tests.bot.helpers import link, mission_start, person, receipt_pdf
from tests.fixtures.photos import HOTEL, RESTAURANT, TRAIN, big_photo, heic_of

U = 4004


def efm_id(number: str) -> int:
    with session_scope() as session:
        return session.scalar(select(EtatDeFrais.id).join(Convocation).join(Mission).where(Mission.number == number))


def receipts_of(number: str) -> list[Receipt]:
    with session_scope() as session:
        found = receipts.receipts_of(session, efm_id(number))
        for r in found:
            _ = r.line
        session.expunge_all()
        return found


async def texts(chat: ChatClient) -> list[str]:
    return [m["text"] for m in await chat.messages(U) if m["from"] == "bot" and m["text"]]


async def read_all(number: str) -> None:
    """The OCR worker's task, run here on every receipt of the mission (the real Tesseract)."""
    for r in receipts_of(number):
        await asyncio.to_thread(jobs.read_receipt, r.id)


async def to_receipts(chat: ChatClient, demo: dict[str, Any]) -> None:
    """DEMO-103 (a jury, one day) declared up to its receipts: times, no trip, no night, one meal, a total."""
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = mission_start("DEMO-103").strftime("%d/%m/%Y")
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    await chat.press(U, "Continuer")  # no trip
    await chat.press(U, "0")  # no night
    await chat.press(U, "1")  # one meal
    await chat.press(U, "Non")  # not at an administrative restaurant
    await chat.send(U, "100,00")  # the total typed before the receipts are read
    assert "Justificatifs :" in await chat.last_bot_text(U), await texts(chat)


async def refresh(chat: ChatClient) -> str:
    """The receipts list shown again (one receipt opened and left)."""
    await chat.press(U, "🧾 1")
    await chat.press(U, "Retour à la liste")
    return await chat.last_bot_text(U)


async def test_the_list_shows_kinds_and_amounts_a_line_is_confirmed_and_a_kind_corrected(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    await to_receipts(chat, demo)
    await chat.upload(U, RESTAURANT.read_bytes(), "resto.jpg", as_photo=True)
    await chat.upload(U, HOTEL.read_bytes(), "hotel.jpg")
    listing = await chat.last_bot_text(U)
    assert "1. photo-" in listing and "— Nature à confirmer, lecture en cours" in listing
    assert "2. hotel.jpg — Nature à confirmer, lecture en cours" in listing
    await read_all("DEMO-103")
    listing = await refresh(chat)
    assert "— Restaurant (repas), 93,00 € (à confirmer)" in listing, listing
    assert "2. hotel.jpg — Hôtel (hébergement), 217,05 € (à confirmer) : aucune nuit déclarée" in listing
    assert "⚠️ « hotel.jpg » (hôtel (hébergement)) : aucune nuit d'hôtel n'est déclarée" in listing
    assert "Total déclaré : 100,00 €" in listing

    await chat.press(U, "🧾 1")  # « Montant lu : 93,00 € — Utiliser ? »: one tap
    card = await chat.last_bot_text(U)
    assert "Montant lu : 93,00 € — Utiliser ?" in card and "Ce justificatif est : Restaurant (repas) ?" in card
    await chat.press(U, "Utiliser 93,00 €")
    assert "✅ Montant confirmé." in await texts(chat)
    card = await chat.last_bot_text(U)
    assert "Montant : 93,00 € ✓" in card and "Ce justificatif est : Restaurant (repas) ✓" in card
    assert "Utiliser" not in " ".join(await chat.buttons(U))
    await chat.press(U, "Retour à la liste")

    await chat.press(U, "🧾 2")  # the hotel was a taxi: « autre… », then the kind from core's list
    await chat.press(U, "Autre nature")
    labels = await chat.buttons(U)
    assert "Hôtel (hébergement) ✓" in labels and "Taxi" in labels and "Billet de train" in labels
    await chat.press(U, "Taxi")
    assert "✅ Nature enregistrée : Taxi." in await texts(chat)
    card = await chat.last_bot_text(U)
    assert "Ce justificatif est : Taxi ✓" in card and "Montant : 217,05 € ✓" in card
    assert "aucun trajet de ce type n'est déclaré" in card  # the mismatch, from core's matching
    lines = {r.original_name: r.line for r in receipts_of("DEMO-103")}
    assert lines["hotel.jpg"].kind == "taxi" and lines["hotel.jpg"].state == LineState.CORRECTED
    assert lines["hotel.jpg"].amount_confirmed == Decimal("217.05")
    with session_scope() as session:  # every line confirmed: the declared total is their sum
        assert session.get(EtatDeFrais, efm_id("DEMO-103")).receipts_total == Decimal("310.05")

    await chat.send(U, "20O")  # a typed amount, parsed by core: a mistake is answered with an example
    assert "❗" in (await texts(chat))[-2]
    await chat.send(U, "210,00 €")
    assert "✅ Montant enregistré : 210,00 €." in await texts(chat)
    await chat.press(U, "Retour à la liste")
    listing = await chat.last_bot_text(U)
    assert "2. hotel.jpg — Taxi, 210,00 € ✓" in listing and "Total déclaré : 303,00 €" in listing


async def test_an_unreadable_receipt_keeps_the_typed_total_until_its_line_is_given(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    await to_receipts(chat, demo)  # 100,00 € typed
    await chat.upload(U, receipt_pdf("TAXI BLEU - Total TTC : 18,00 EUR"), "taxi.pdf")
    await chat.upload(U, receipt_pdf("Merci de votre visite, a bientot"), "ticket.pdf")  # no amount on it
    await read_all("DEMO-103")
    await chat.press(U, "🧾 1")
    await chat.press(U, "Utiliser 18,00 €")
    await chat.press(U, "Retour à la liste")
    listing = await chat.last_bot_text(U)
    assert "2. ticket.pdf — Nature à confirmer, montant illisible" in listing
    assert "Total déclaré : 100,00 €" in listing  # one receipt unreadable: the typed total stays
    await chat.press(U, "🧾 2")
    assert "Montant : illisible." in await chat.last_bot_text(U)
    assert not any("Utiliser" in label for label in await chat.buttons(U))
    await chat.send(U, "12,00")  # its amount typed, then what it is
    await chat.press(U, "Autre nature")
    await chat.press(U, "Restaurant (repas)")
    await chat.press(U, "Retour à la liste")
    listing = await chat.last_bot_text(U)
    assert "2. ticket.pdf — Restaurant (repas), 12,00 € ✓" in listing and "Total déclaré : 30,00 €" in listing


async def test_the_meal_and_hotel_case_counts_one_night_and_three_meals_once(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    """Issue 13's case: two days, 3 meals and 1 night, a hotel (95,00 €) and a restaurant (23,40 €) receipt."""
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-101")
    d0, d1 = day.strftime("%d/%m/%Y"), (day + timedelta(days=1)).strftime("%d/%m/%Y")
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, "120")
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, f"{d1} 19:30")
    await chat.press(U, "Continuer")  # no trip
    await chat.press(U, "1")
    await chat.send(U, "95,00")
    await chat.press(U, "3")
    await chat.press(U, "Aucun")
    await chat.send(U, "118,40")
    await chat.upload(U, receipt_pdf(f"HOTEL DU PORT - Nuitee du {d0} - Total TTC : 95,00 EUR"), "hotel.pdf")
    await chat.upload(U, receipt_pdf(f"RESTAURANT LE MARIVAUX - {d0} - Total TTC : 23,40 EUR"), "resto.pdf")
    await read_all("DEMO-101")
    for n in ("🧾 1", "🧾 2"):  # each line confirmed in one tap
        await chat.press(U, n)
        await chat.press(U, "Utiliser")
        await chat.press(U, "Retour à la liste")
    await chat.press(U, "🧾 1")  # the hotel bill's nights, checked against those declared
    assert "Nuits sur cette facture : non indiquées" in await chat.last_bot_text(U)
    await chat.press(U, "🌙 2")
    await chat.press(U, "Retour à la liste")
    assert "⚠️ Les factures d'hôtel couvrent 2 nuit(s), 1 nuit(s) sont déclarées." in await chat.last_bot_text(U)
    await chat.press(U, "🧾 1")
    await chat.press(U, "🌙 1")
    assert "Nuits sur cette facture : 1" in await chat.last_bot_text(U) and "🌙 1 ✓" in await chat.buttons(U)
    await chat.press(U, "Retour à la liste")
    listing = await chat.last_bot_text(U)
    assert "1. hotel.pdf — Hôtel (hébergement), 95,00 € ✓ : nuit(s) d'hôtel déclarée(s)" in listing, listing
    assert "2. resto.pdf — Restaurant (repas), 23,40 € ✓ : preuve d'un repas" in listing
    assert "⚠️" not in listing and "Total déclaré : 118,40 €" in listing
    with session_scope() as session:
        efm = session.get(EtatDeFrais, efm_id("DEMO-101"))
        assert efm.receipts_total == Decimal("118.40")  # the sum of the lines, as typed
        matching = {
            justification.JUSTIFIES_NOTHING,
            justification.KIND_UNKNOWN,
            justification.TICKET_NO_TRIP,
            justification.TRIP_NO_TICKET,
            justification.OUTSIDE_MISSION,
            justification.MEAL_OUTSIDE_WINDOWS,
            justification.MEAL_RECEIPTS_MISSING,
            justification.NIGHTS_MISMATCH,
        }
        assert not [f.code for f in efm.flags if f.code in matching]  # nothing false flagged
        estimate = estimates.estimate_for(session, efm)
    meals = [ln for ln in estimate.lines if ln.category == "meals"]
    assert [ln.quantity for ln in meals] == [3]  # the meal receipt is proof, not paid again as transport
    [night] = [ln for ln in estimate.lines if ln.category == "lodging"]  # one night, at most the zone's cap
    assert night.quantity == 1 and Decimal(0) < night.amount <= Decimal("95.00")
    assert "transport" not in estimate.by_category()


async def test_remove_and_replace_a_receipt(chat: ChatClient, demo: dict[str, Any]) -> None:
    await to_receipts(chat, demo)
    await chat.upload(U, receipt_pdf("Billet SNCF - Total TTC : 32,40 EUR"), "billet-flou.pdf")
    taxi = receipt_pdf("Taxi - Total TTC : 18,00 EUR")  # made once: the PDF holds its creation time
    await chat.upload(U, taxi, "taxi.pdf")
    first = receipts_of("DEMO-103")[0]

    await chat.press(U, "🧾 1")
    await chat.press(U, "Remplacer")
    assert "Envoyez le nouveau fichier du justificatif « billet-flou.pdf »" in await chat.last_bot_text(U)
    await chat.upload(U, taxi, "encore-taxi.pdf")  # the other one's file
    assert "déjà le justificatif « taxi.pdf »" in (await texts(chat))[-2]
    await chat.upload(U, receipt_pdf("Billet SNCF - Total TTC : 34,20 EUR"), "billet-net.pdf")
    assert "🔁 Fichier remplacé par « billet-net.pdf » : il va être lu à nouveau." in await texts(chat)
    replaced = receipts_of("DEMO-103")[0]
    assert (replaced.id, replaced.original_name, replaced.ocr_status) == (first.id, "billet-net.pdf", "pending")
    assert replaced.sha256 != first.sha256 and not receipt_store().exists(first.storage_key)
    await read_all("DEMO-103")
    assert receipts_of("DEMO-103")[0].line.amount_read == Decimal("34.20")  # the new file is what was read

    await chat.press(U, "Supprimer")  # a confirm tap first
    assert "Supprimer le justificatif « billet-net.pdf » ?" in await chat.last_bot_text(U)
    await chat.press(U, "Non, le garder")
    assert len(receipts_of("DEMO-103")) == 2
    await chat.press(U, "Supprimer")
    await chat.press(U, "Oui, supprimer")
    assert "🗑 Justificatif « billet-net.pdf » supprimé." in await texts(chat)
    listing = await chat.last_bot_text(U)
    assert "1. taxi.pdf" in listing and "billet-net.pdf" not in listing
    assert [r.original_name for r in receipts_of("DEMO-103")] == ["taxi.pdf"]


async def test_a_receipt_sent_for_the_wrong_mission_is_moved(chat: ChatClient, demo: dict[str, Any]) -> None:
    await to_receipts(chat, demo)
    await chat.upload(U, receipt_pdf("Hotel du Port - Total : 95,00 EUR"), "hotel.pdf")
    await chat.press(U, "🧾 1")
    await chat.press(U, "Autre mission")
    labels = await chat.buttons(U)
    assert any("DEMO-101" in label for label in labels) and any("DEMO-102" in label for label in labels)
    assert not any("DEMO-103" in label or "DEMO-201" in label for label in labels)  # not itself, not another's
    await chat.press(U, "DEMO-102")
    assert "📂 Justificatif « hotel.pdf » rattaché à la mission n° DEMO-102." in await texts(chat)
    assert "aucun pour l'instant" in await chat.last_bot_text(U)
    assert receipts_of("DEMO-103") == [] and [r.original_name for r in receipts_of("DEMO-102")] == ["hotel.pdf"]


async def test_a_heic_photo_and_an_8_mb_photo_sent_as_documents(chat: ChatClient, demo: dict[str, Any]) -> None:
    await to_receipts(chat, demo)
    heic = heic_of(RESTAURANT)
    await chat.upload(U, heic, "IMG_0042.HEIC", content_type="image/heic")
    assert "✅ Justificatif « IMG_0042.jpg » reçu" in (await texts(chat))[-2]
    big = big_photo(HOTEL)
    await chat.upload(U, big, "IMG_0043.JPG", content_type="image/jpeg")
    assert "✅ Justificatif « IMG_0043.jpg » reçu" in (await texts(chat))[-2]
    stored = {r.original_name: r for r in receipts_of("DEMO-103")}
    converted, smaller = stored["IMG_0042.jpg"], stored["IMG_0043.jpg"]
    assert (converted.detected_type, converted.original_type) == ("image/jpeg", "image/heic")
    assert receipt_store().get(converted.original_key) == heic
    assert smaller.size <= receipts.MAX_RECEIPT_BYTES < len(big) and receipt_store().get(smaller.original_key) == big
    await read_all("DEMO-103")
    listing = await refresh(chat)
    assert "1. IMG_0042.jpg — Restaurant (repas), 93,00 €" in listing, listing
    assert "2. IMG_0043.jpg — Hôtel (hébergement), 217,05 €" in listing


async def test_three_photos_joined_into_one_pdf(chat: ChatClient, demo: dict[str, Any]) -> None:
    await to_receipts(chat, demo)
    await chat.press(U, "Réunir plusieurs photos en un seul fichier")
    await chat.upload(U, RESTAURANT.read_bytes(), "recto.jpg", as_photo=True)
    assert "Réunir" not in " ".join(await chat.buttons(U))  # one photo: nothing to join yet
    await chat.upload(U, heic_of(HOTEL), "verso.heic")
    await chat.upload(U, receipt_pdf(), "billet.pdf")  # not a photo: core refuses it when joining
    await chat.press(U, "Réunir les 3 photos en un seul fichier")
    assert "La pièce n° 3 n'est pas une photo" in (await texts(chat))[-2]
    await chat.press(U, "Retirer la dernière photo")
    assert "↩️ « billet.pdf » retirée." in await texts(chat)
    await chat.upload(U, TRAIN.read_bytes(), "suite.jpg", as_photo=True)
    assert "verso.heic" in await chat.last_bot_text(U) and "billet.pdf" not in await chat.last_bot_text(U)
    assert receipts_of("DEMO-103") == []  # nothing stored before the photos are joined
    await chat.press(U, "Réunir les 3 photos en un seul fichier")
    said = await texts(chat)
    assert any("(3 photos réunies)" in t for t in said), said
    [joined] = receipts_of("DEMO-103")
    assert joined.detected_type == "application/pdf" and joined.original_name.endswith(".pdf")
    assert ocr.read(receipt_store().get(joined.storage_key), joined.original_name).pages == 3
    assert f"1. {joined.original_name}" in await chat.last_bot_text(U)  # back to the list


def test_a_long_list_shows_each_receipt_with_the_number_of_its_mismatches() -> None:
    from bot.dialogs.declare.receipts import LIST_BUDGET, ReceiptsList

    problem = "« photo.jpg » (taxi) : aucun trajet de ce type n'est déclaré ; il n'est pas payé. " * 2
    short = ReceiptsList(["1. a.pdf — Taxi, 12,00 €"], [[problem]], [1], [], False)
    assert short.text() == f"1. a.pdf — Taxi, 12,00 €\n   ⚠️ {problem}"
    count = LIST_BUDGET // len(problem) + 1
    lines = [f"{n}. photo-{n}.jpg — Taxi, 12,00 €" for n in range(1, count + 1)]
    long = ReceiptsList(lines, [[problem, problem]] * count, list(range(count)), [], False)
    text = long.text()
    assert len(text) < LIST_BUDGET and problem not in text
    assert f"{count}. photo-{count}.jpg — Taxi, 12,00 €\n   ⚠️ 2 remarque(s) : touchez 🧾 {count}" in text
