"""Issue 13 end to end: receipts read by the real OCR, the estimate by what each receipt justifies, and Imag'in's
rules before « Valider » (refused, moved, confirmed) in the chat, then the same dossier on the DEC console."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from sqlalchemy import select

from bot.emulator.client import ChatClient
from core import jobs, receipt_lines, receipts
from core.db import session_scope
from core.mail.addresses import personal_address
from core.models import Convocation, EtatDeFrais, Intervenant, Mission, Receipt
from core.recap_pdf import _pdf_text, render_recap_pdf
from tests.bot.helpers import link, mission_start, pdf_text, person
from tests.mail import factory
from tests.mail.conftest import DOMAIN, INTAKE, Service, _start_service, _stop_service, wait_for
from tests.mail.test_smtp_intake import send, settled
from tests.net import Sink, free_port, running_sink
from tests.web.conftest import Console, login

U = 1301
ACTOR = "intervenant:test"


@pytest.fixture
def relay(imagin_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """Intake settings for this test's database; the replies go to a sink standing in for the relay."""
    from core.settings import reset_settings

    for sink in running_sink():
        monkeypatch.setenv("IMAGIN_INTAKE_ADDRESSES", INTAKE)
        monkeypatch.setenv("IMAGIN_INTAKE_DOMAIN", DOMAIN)
        monkeypatch.setenv("IMAGIN_RELAY_HOST", "127.0.0.1")
        monkeypatch.setenv("IMAGIN_RELAY_PORT", str(sink.port))
        monkeypatch.setenv("IMAGIN_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("IMAGIN_SMTP_PORT", str(free_port()))
        reset_settings()
        yield sink


@pytest.fixture
def mail_service(relay: Sink, demo: dict[str, Any]) -> Iterator[Service]:
    """The mail intake (SMTP server, worker, mailer) on the seeded database."""
    service = _start_service()
    yield service
    _stop_service(service)


def paper(*lines: str) -> bytes:
    """A receipt as a text PDF (read by the real pipeline, pdfplumber's text engine)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    for line in lines:
        pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def efm_id(number: str) -> int:
    with session_scope() as session:
        return session.scalar(select(EtatDeFrais.id).join(Convocation).join(Mission).where(Mission.number == number))


def read_and_confirm(number: str) -> None:
    """Every receipt of the mission read by the real OCR (as the worker runs it), then confirmed as read
    (« Montant lu : … — Utiliser ? »), through core's use case."""
    with session_scope() as session:
        found = session.scalars(select(Receipt).where(Receipt.efm_id == efm_id(number)).order_by(Receipt.id))
        ids = {r.original_name: r.id for r in found}
    for receipt_id in ids.values():
        jobs.read_receipt(receipt_id)
    with session_scope() as session:
        efm = session.get(EtatDeFrais, efm_id(number))
        for receipt_id in ids.values():
            receipt_lines.confirm(session, efm, receipt_id, ACTOR)


def receipt_arrives(number: str, data: bytes, name: str) -> None:
    """A receipt stored for the mission (as the mail intake stores one), read by the real OCR and confirmed."""
    with session_scope() as session:
        efm = session.get(EtatDeFrais, efm_id(number))
        receipt, _ = receipts.add_receipt(session, efm, data, name, source="email", actor="mail:test")
        receipt_id = receipt.id
    jobs.read_receipt(receipt_id)
    with session_scope() as session:
        receipt_lines.confirm(session, session.get(EtatDeFrais, efm_id(number)), receipt_id, ACTOR)


@dataclass
class DecView:
    page: str  # the dossier's page, unescaped
    data: dict[str, Any]  # dossier.json of the dossier's zip
    payment: list[dict[str, str]]  # the travel part's payment export, when validated


def dec_view(demo: dict[str, Any], number: str, *, validate: bool = False) -> DecView:
    """The dossier as the DEC gestionnaire sees it on the console (service fait attested first); ``validate``:
    then validated and its travel part exported for payment."""
    console = Console(session_scope, demo, {})
    client = console.client()
    token = login(client, "dec.demo", console.password("dec.demo"))
    target = efm_id(number)
    client.post(f"/dossiers/{target}/service-fait", data={"csrf": token, "effectue": "oui"})
    page = html.unescape(client.get(f"/dossiers/{target}").text)
    with zipfile.ZipFile(io.BytesIO(client.get(f"/dossiers/{target}/dossier.zip").content)) as archive:
        data = json.loads(archive.read("dossier.json"))
    payment: list[dict[str, str]] = []
    if validate:
        client.post(f"/dossiers/{target}/decision", data={"csrf": token, "action": "validate", "partie": "both"})
        r = client.post("/exports/paiement", data={"csrf": token, "partie": "travel", "confirme": "oui"})
        payment = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    return DecView(page, data, payment)


def section(page: str, anchor: str) -> str:
    return page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


async def texts(chat: ChatClient) -> list[str]:
    return [m["text"] for m in await chat.messages(U) if m["from"] == "bot" and m["text"]]


async def sent_document(chat: ChatClient) -> bytes:
    """The last document the bot sent, as the user downloads it."""
    message = next(m for m in reversed(await chat.messages(U)) if m["from"] == "bot" and m["document"])
    params = {"user_id": str(U), "message_id": str(message["id"])}
    async with chat.http.get(f"{chat.base}/emulator/api/file", params=params) as resp:
        return await resp.read()


async def trip(
    chat: ChatClient, depart_at: str, depart_city: str, arrive_at: str, arrive_city: str, mode: str, km: str = ""
) -> None:
    await chat.press(U, "Ajouter un trajet")
    await chat.send(U, depart_at)
    await chat.send(U, depart_city)
    await chat.send(U, arrive_at)
    await chat.send(U, arrive_city)
    await chat.press(U, mode)
    if km:
        await chat.send(U, km)


async def declare_correction(chat: ChatClient, day: datetime, outbound: str) -> tuple[str, str]:
    """DEMO-101 (two days of correction) up to the receipts step: 100 copies, ST LO → CAEN by train or car on
    the first day, back by car on the second, 1 hotel night at 95,00 €, 3 meals, 118,40 € of receipts."""
    d0, d1 = day.strftime("%d/%m/%Y"), (day + timedelta(days=1)).strftime("%d/%m/%Y")
    await chat.press(U, "DEMO-101")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, "100")
    await chat.send(U, f"{d0} 07:30")
    await chat.send(U, f"{d1} 19:30")
    await trip(chat, f"{d0} 07:30", "ST LO", "08:30", "CAEN", outbound, "70" if outbound == "Véhicule" else "")
    await trip(chat, f"{d1} 18:30", "CAEN", "19:30", "ST LO", "Véhicule", "70")
    await chat.press(U, "Continuer")
    await chat.press(U, "5")  # fiscal horsepower
    await chat.send(U, "1000")
    await chat.press(U, "1")  # one night
    await chat.send(U, "95,00")
    await chat.press(U, "3")  # three meals
    await chat.press(U, "Aucun")  # none at an administrative restaurant
    await chat.send(U, "118,40")
    assert "Étape 7/8" in await chat.last_bot_text(U)
    return d0, d1


def mail_receipts(service: Service, relay: Sink, numero: str, files: list[tuple[bytes, str]], expect: list[str]) -> str:
    """Receipts e-mailed over SMTP to the person's own address, subject the mission, then read by the real OCR
    and confirmed; returns the reply that lists every line as ``expect`` says."""
    with session_scope() as session:
        person = session.scalar(select(Intervenant).where(Intervenant.numero == numero))
        address, sender = personal_address(person), person.emails[0].address
    attachments = [(data, name, "application/pdf") for data, name in files]
    msg = factory.message(sender=sender, to=address, subject="Mission DEMO-101", attachments=attachments)
    send(service.port, msg, rcpt=address)
    mail = wait_for(lambda: settled(session_scope, msg["Message-ID"]), what="processing")
    assert [a.state for a in mail.attachments] == ["accepted"] * len(files)
    read_and_confirm("DEMO-101")

    def listing() -> str | None:
        bodies = [m.get_content().replace("\r\n", "\n") for m in relay.replies_to(sender)]
        return next((b for b in bodies if all(line in b for line in expect)), None)

    return str(wait_for(listing, what="the reply listing the lines"))


async def test_meal_and_hotel_pay_one_night_and_three_meals_once(
    mail_service: Service, relay: Sink, chat: ChatClient, demo: dict[str, Any]
) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-101")
    d0, d1 = await declare_correction(chat, day, "Véhicule")
    await chat.press(U, "Je les enverrai par e-mail")
    hotel = paper("HOTEL DU PORT", "Caen", f"Facture du {d1}", "1 nuit", "Total TTC : 95,00 EUR")
    resto = paper("RESTAURANT LE PORT", "Caen", f"{d0} 20:15", "Menu du jour", "Total TTC : 23,40 EUR")
    lines = ["- hotel.pdf : Hôtel (hébergement), 95,00 €", "- resto.pdf : Restaurant (repas), 23,40 €"]
    files = [(hotel, "hotel.pdf"), (resto, "resto.pdf")]
    reply = await asyncio.to_thread(mail_receipts, mail_service, relay, p["numero"], files, lines)
    assert "Justificatifs de la mission n° DEMO-101 :" in reply  # the e-mail reply lists the lines read
    await chat.press(U, "Continuer")
    recap = await chat.last_bot_text(U)
    assert "Étape 8/8" in recap
    assert "• Repas : 60,00 €" in recap and "Repas : 3 repas × 20,00 € = 60,00 €" in recap
    assert "• Hébergement : 90,00 €" in recap and "1 nuit × 90,00 € = 90,00 €" in recap  # min(95,00, the cap)
    assert "• Indemnités kilométriques : 44,80 €" in recap
    assert "Transport sur justificatifs" not in recap  # the restaurant is proof of a meal, never paid as transport
    assert "Total des justificatifs déclaré : 118,40 €" in recap  # the sum of the lines, as typed
    assert "hotel.pdf : Hôtel (hébergement), 95,00 € : nuit(s) d'hôtel déclarée(s)" in recap
    assert "resto.pdf : Restaurant (repas), 23,40 € : preuve d'un repas" in recap
    assert "Points à vérifier" not in recap and "Validation impossible" not in recap  # nothing false flagged
    await chat.press(U, "Valider ma déclaration")  # nothing to confirm: the dossier number at once
    said = await texts(chat)
    assert not any("« Je confirme »" in t for t in said) and any("Numéro de dossier" in t for t in said)

    dec = await asyncio.to_thread(dec_view, demo, "DEMO-101", validate=True)
    page = dec.page
    table = section(page, "lignes")
    hotel_row = re.search(r"<tr[^>]*>\s*<td[^>]*>hotel\.pdf.*?</tr>", table, re.S).group(0)
    resto_row = re.search(r"<tr[^>]*>\s*<td[^>]*>resto\.pdf.*?</tr>", table, re.S).group(0)
    assert "Hôtel (hébergement)" in hotel_row and "95,00 €" in hotel_row and "(compté)" in hotel_row
    assert "Restaurant (repas)" in resto_row and "23,40 €" in resto_row and "preuve d'un repas" in resto_row
    assert "(compté)" not in resto_row
    categories = page.split('id="par-categorie"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"Repas</td><td class=\"num\">60,00 €", categories)
    assert re.search(r"Hébergement</td><td class=\"num\">90,00 €", categories)
    assert "Transport sur justificatifs" not in page
    controls = section(page, "controles")
    assert (
        "Total des justificatifs conforme" in controls and "à vérifier" not in controls and "bloquant" not in controls
    )
    estimate = dec.data["estimation"]  # the dossier's zip: the estimate per category and each receipt's line
    assert estimate["par_categorie"] == {"pay": "500.00", "meals": "60.00", "lodging": "90.00", "car": "44.80"}
    kept = {r["nom"]: r["ligne"] for r in dec.data["justificatifs"]}
    assert (kept["hotel.pdf"]["nature"], kept["hotel.pdf"]["montant_confirme"], kept["hotel.pdf"]["compte"]) == (
        "lodging",
        "95.00",
        True,
    )
    assert (kept["resto.pdf"]["nature"], kept["resto.pdf"]["compte"], kept["resto.pdf"]["ecarts"]) == (
        "meal",
        False,
        [],
    )
    [row] = dec.payment  # the payment export per category: the meal paid once, as a meal
    assert (row["Mission"], row["Repas (€)"], row["Hébergement (€)"]) == ("DEMO-101", "60,00", "90,00")
    assert (row["Transport sur justificatifs (€)"], row["Indemnités kilométriques (€)"]) == ("0,00", "44,80")
    assert row["Montant (€)"] == "194,80"


async def test_a_ticket_on_another_day_is_flagged_confirmed_then_validated(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-101")
    d0, d1 = await declare_correction(chat, day, "Train")
    ticket = paper("SNCF TER Normandie", "Billet", f"Voyage du {d1}", "ST LO -> CAEN", "Total TTC : 12,60 EUR")
    await chat.upload(U, ticket, "billet.pdf")  # the train went on the first day, the ticket says the second
    await asyncio.to_thread(read_and_confirm, "DEMO-101")
    await chat.press(U, "Continuer")
    recap = await chat.last_bot_text(U)
    flagged = f"« billet.pdf » (billet de train) est daté du {d1} : aucun trajet déclaré ce jour-là (trajets du {d0})"
    assert "Points à vérifier" in recap and flagged in recap
    assert "Transport sur justificatifs" not in recap  # a ticket matching no trip is not paid

    await chat.press(U, "Valider ma déclaration")  # the warnings are listed, nothing sent yet
    window = await chat.last_bot_text(U)
    assert "confirmez avoir vérifié ces points (« Je confirme »)" in window and flagged in window
    assert window.startswith("Mission n° DEMO-101 – Étape 8/8")  # the draft read with the check heads it
    assert "Aucun billet ni reçu ne correspond au trajet ST LO → CAEN" in window  # the train of the first day
    assert await chat.buttons(U) == ["✅ Je confirme", "⬅️ Retour", "✖️ Annuler"]
    assert not any("Numéro de dossier" in t for t in await texts(chat))

    await chat.press(U, "Retour")  # back to the recap; one answer changed from there, and back to the recap
    await chat.press(U, "Quantité")
    await chat.send(U, "600")  # more copies than two days can hold: refused, not a warning
    recap = await chat.last_bot_text(U)
    assert "Étape 8/8" in recap and "Validation impossible" in recap and "600 copies à 3 min au moins" in recap
    labels = await chat.buttons(U)
    assert "✅ Valider ma déclaration" not in labels and not any("Déplacer" in label for label in labels)
    await chat.press(U, "Quantité")
    await chat.send(U, "95")
    recap = await chat.last_bot_text(U)
    assert "Étape 8/8" in recap and "95 copies ×" in recap

    await chat.press(U, "Valider ma déclaration")
    assert flagged in await chat.last_bot_text(U)
    before = mission_start("DEMO-101") - timedelta(days=20)  # meanwhile, a receipt of another month comes in
    parking = paper("PARKING INDIGO", "Caen", f"Le {before:%d/%m/%Y}", "Stationnement", "Total TTC : 8,00 EUR")
    await asyncio.to_thread(receipt_arrives, "DEMO-101", parking, "parking.pdf")
    await chat.press(U, "Je confirme")  # what was shown is confirmed, the new point is asked: still no number
    window = await chat.last_bot_text(U)
    assert f"« parking.pdf » (stationnement) est daté du {before:%d/%m/%Y}, en dehors des dates" in window
    assert flagged not in window and not any("Numéro de dossier" in t for t in await texts(chat))
    await chat.press(U, "Je confirme")
    confirmation = next(t for t in await texts(chat) if "Numéro de dossier" in t)
    sent = pdf_text(await sent_document(chat))
    with session_scope() as session:
        efm = session.get(EtatDeFrais, efm_id("DEMO-101"))
        assert efm.copies == 95 and efm.dossier_number and efm.dossier_number in confirmation
        confirmed = [" ".join(_pdf_text(f.message).split()) for f in efm.flags if f.severity == "warning"]
        assert sent == pdf_text(render_recap_pdf(session, efm.id))  # the form as rendered from the data now
    points = sent.split("Points à vérifier", 1)[1].split("Attestation et signatures", 1)[0]
    assert len(confirmed) >= 3 and all(f"- {point}" in points for point in confirmed)  # what was checked
    assert f"Dossier n° {efm.dossier_number}" in sent and "Frais de rémunération À valider" in sent

    page = (await asyncio.to_thread(dec_view, demo, "DEMO-101")).page
    controls = section(page, "controles")
    assert flagged in controls  # the DEC sees what was confirmed
    row = re.search(r"<tr[^>]*>\s*<td[^>]*>billet\.pdf.*?</tr>", section(page, "lignes"), re.S).group(0)
    assert "aucun trajet ce jour-là" in row and "(compté)" not in row


async def test_trips_on_the_second_mission_of_a_day_are_refused_then_moved(
    chat: ChatClient, demo: dict[str, Any]
) -> None:
    p = person(demo, 0)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    d0 = mission_start("DEMO-103").strftime("%d/%m/%Y")  # DEMO-102 (08:00) comes first that day
    await chat.press(U, "DEMO-103")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "19:00")
    await trip(chat, f"{d0} 07:10", "ST LO", "08:20", "CAEN", "Véhicule", "60")
    await chat.press(U, "Continuer")
    await chat.press(U, "5")
    await chat.send(U, "1000")
    await chat.press(U, "0")  # no night
    await chat.press(U, "1")  # one meal
    await chat.press(U, "Non")
    await chat.press(U, "Aucun justificatif")  # no receipt to send: the recap comes next
    recap = await chat.last_bot_text(U)
    assert "Validation impossible" in recap
    assert (
        f"Deux missions le {d0} : les trajets se déclarent sur la première mission de la journée (n° DEMO-102)" in recap
    )
    labels = await chat.buttons(U)
    assert "🔀 Déplacer les trajets vers la mission n° DEMO-102" in labels
    assert "✅ Valider ma déclaration" not in labels  # refused, not merely flagged

    await chat.press(U, "Déplacer les trajets vers la mission n° DEMO-102")
    assert "✅ 1 trajet(s) déplacé(s) vers la mission n° DEMO-102." in await texts(chat)
    recap = await chat.last_bot_text(U)
    assert "Étape" in recap and "Validation impossible" not in recap and "Trajets : aucun" in recap
    labels = await chat.buttons(U)
    assert "✅ Valider ma déclaration" in labels and not any("Déplacer" in label for label in labels)
    with session_scope() as session:
        moved = session.get(EtatDeFrais, efm_id("DEMO-102"))
        assert [(t.depart_city, t.arrive_city, t.distance_km) for t in moved.trips] == [("ST LO", "CAEN", 60)]
        assert (moved.car_fiscal_hp, moved.car_yearly_km) == (5, 1000)  # the car goes with its trip
        assert session.get(EtatDeFrais, efm_id("DEMO-103")).trips == []

    await chat.press(U, "Valider ma déclaration")  # nothing left to refuse or to confirm
    assert not any("« Je confirme »" in t for t in await texts(chat))
    assert any("Numéro de dossier" in t for t in await texts(chat))
    with session_scope() as session:
        assert session.get(EtatDeFrais, efm_id("DEMO-103")).dossier_number
