"""Bad input is refused with a French message and an example, then asked again; nothing is lost."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from bot.emulator.client import ChatClient
from core.db import session_scope
from core.models import Convocation, EtatDeFrais, Mission
from tests.bot.helpers import link, mission_start, person, png_bytes

U = 2002


def efm_of(number: str) -> EtatDeFrais:
    with session_scope() as session:
        return session.scalar(select(EtatDeFrais).join(Convocation).join(Mission).where(Mission.number == number))


async def last_two(chat: ChatClient) -> tuple[str, str]:
    """The error message and the question asked again after it."""
    texts = [m["text"] for m in await chat.messages(U) if m["from"] == "bot" and m["text"]]
    return texts[-2], texts[-1]


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


async def test_each_bad_input_is_reasked_with_an_example(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 1)  # D1002: DEMO-201 (oral) and DEMO-202 (pratique)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-202")
    d0 = day.strftime("%d/%m/%Y")
    await chat.press(U, "DEMO-202")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")

    await chat.send(U, "25h70")  # practical hours with impossible minutes
    err, again = await last_two(chat)
    assert "Durée invalide" in err and "Exemple attendu" in err and "Étape 2/8" in again
    await chat.send(U, "douze heures")
    err, again = await last_two(chat)
    assert "Durée invalide" in err and "Étape 2/8" in again
    await chat.send(U, "6h30")
    assert efm_of("DEMO-202").practical_minutes == 390

    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, f"{d0} 06:00")  # return before the departure
    err, again = await last_two(chat)
    assert "doit être après le départ" in err and "Date et heure de retour" in again
    await chat.send(U, "25/13/2020 7h")
    err, _ = await last_two(chat)
    assert "invalide" in err and f"Exemple attendu : {day:%d/%m/%Y} 07:30" in err  # the departure's day
    await chat.send(U, f"{(day + timedelta(days=1)):%d/%m/%Y} 20:00")
    assert "Étape 4/8" in await chat.last_bot_text(U)

    await chat.press(U, "Ajouter un trajet")
    far = day + timedelta(days=30)
    await chat.send(U, f"{far:%d/%m/%Y} 07:00")  # a trip outside the mission dates
    err, again = await last_two(chat)
    assert "en dehors des dates de la mission" in err and "date et heure de départ" in again
    await chat.send(U, f"{d0} 07:00")
    await chat.send(U, "BAYEUX")
    await chat.send(U, f"{d0} 06:00")  # arrival before departure
    err, again = await last_two(chat)
    assert "doit être après le départ" in err and "Date et heure d'arrivée" in again
    await chat.send(U, "09:10")
    await chat.send(U, "PARIS")
    await chat.press(U, "Train")
    await chat.press(U, "Continuer")
    await chat.press(U, "0")  # nights
    await chat.send(U, "trois")  # letters in a count
    err, again = await last_two(chat)
    assert "Nombre invalide" in err and err.endswith("Exemple attendu : 2") and "Repas" in again  # the question's
    await chat.press(U, "0")  # meals
    assert "Étape 6/8" in await chat.last_bot_text(U)

    await chat.send(U, "12,5O €")
    err, again = await last_two(chat)
    assert "Montant invalide" in err and "Exemple attendu : 12,50" in err and "Étape 6/8" in again
    await chat.send(U, "12,50 €")
    assert "Étape 7/8" in await chat.last_bot_text(U)

    await chat.upload(U, png_bytes(6 * 1024 * 1024), "ticket.png", as_photo=True)
    assert "reçu" in (await last_two(chat))[0]  # a photo over 5 MB is made smaller, not refused
    await chat.upload(U, b"%PDF-1.4\n" + b"\0" * (6 * 1024 * 1024), "scan.pdf")
    err, again = await last_two(chat)
    assert "trop volumineux" in err and "5 Mo" in err and "Étape 7/8" in again
    await chat.upload(U, docx_bytes(), "note.docx")
    err, _ = await last_two(chat)
    assert "« note.docx » n'est pas un format accepté (document Word)" in err and "Enregistrez-le en PDF" in err
    await chat.flood(1, retry_after=1, methods=["getFile"])  # Telegram cannot hand the file over this time
    await chat.upload(U, png_bytes(), "ticket.png", as_photo=True)
    assert "n'a pas pu être récupéré auprès de Telegram : renvoyez-le" in (await last_two(chat))[0]
    await chat.upload(U, png_bytes(), "ticket.png", as_photo=True)
    assert "reçu" in (await last_two(chat))[0]

    with session_scope() as session:  # everything accepted so far is kept
        efm = session.merge(efm_of("DEMO-202"))
        assert efm.practical_minutes == 390 and str(efm.receipts_total) == "12.50"
        assert [t.arrive_city for t in efm.trips] == ["PARIS"]


async def test_a_mission_yet_to_begin_cannot_be_declared_done(chat: ChatClient, demo: dict[str, Any]) -> None:
    later = (datetime.now() + timedelta(days=3)).replace(hour=8, minute=0, second=0, microsecond=0)
    with session_scope() as session:
        session.scalar(select(Mission).where(Mission.number == "DEMO-201")).start_at = later
    p = person(demo, 1)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    await chat.press(U, "DEMO-201")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    err, again = await last_two(chat)
    assert f"commence le {later:%d/%m/%Y à %H:%M}" in err and "vous pourrez la déclarer effectuée" in err
    assert "Avez-vous effectué cette mission ?" in again and efm_of("DEMO-201").service_done is None
    await chat.press(U, "Non effectuée")  # withdrawing beforehand is still possible
    assert efm_of("DEMO-201").service_done is False


async def test_days_named_from_the_mission_are_read(chat: ChatClient, demo: dict[str, Any]) -> None:
    p = person(demo, 1)
    await link(chat, U, p["numero"], p["mot_de_passe"])
    day = mission_start("DEMO-202").date()
    await chat.press(U, "DEMO-202")
    await chat.press(U, "Déclarer")
    await chat.press(U, "Oui, effectuée")
    await chat.send(U, "6h30")
    await chat.send(U, "la veille à 18h")  # the day before the mission
    await chat.send(U, "le lendemain 19h30")  # the day after the departure
    assert "Étape 4/8" in await chat.last_bot_text(U)
    efm = efm_of("DEMO-202")
    assert efm.departure_at == datetime.combine(day - timedelta(days=1), time(18, 0))
    assert efm.return_at == datetime.combine(day, time(19, 30))
