"""Receipts sent by e-mail come back as lines: over real SMTP, read by the real OCR, answered through the relay."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core import jobs, receipt_lines
from core.models import Receipt
from tests.mail import factory
from tests.mail.conftest import wait_for
from tests.mail.test_smtp_intake import reply_for, send, settled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "receipts_fr"


def test_the_reply_after_reading_lists_each_line_kind_and_amount(service, mail_env, reply_sink):
    ticket = (FIXTURES / "fr_01_restaurant_none.jpg").read_bytes()  # total 93,00 €
    hotel = (FIXTURES / "fr_49_hotel_textpdf.pdf").read_bytes()
    msg = factory.message(attachments=[(ticket, "resto.jpg", "image/jpeg"), (hotel, "hotel.pdf", "application/pdf")])
    send(service.port, msg)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    assert [a.state for a in mail.attachments] == ["accepted", "accepted"]
    reply_for(reply_sink, "ines.leroy@example.org")  # the receipt of the message itself
    with mail_env() as session:
        ids = {r.original_name: r.id for r in session.scalars(select(Receipt).where(Receipt.efm_id == mail.efm_id))}
    jobs.read_receipt(ids["hotel.pdf"])  # the real OCR, as the worker runs it
    with mail_env() as session:
        efm = session.get(Receipt, ids["hotel.pdf"]).efm
        receipt_lines.correct(session, efm, ids["hotel.pdf"], "intervenant:test", kind="lodging")  # "Hôtel ✓"
    jobs.read_receipt(ids["resto.jpg"])
    text = reply_for(reply_sink, "ines.leroy@example.org", count=3).get_content().replace("\r\n", "\n")
    assert "« resto.jpg » a été lu : total 93,00 €" in text
    assert "Justificatifs de la mission n° DEMO-301 :" in text
    assert "- resto.jpg : Restaurant (repas), 93,00 €" in text  # the kind as the reading gives it
    assert "- hotel.pdf : Hôtel (hébergement), " in text and " €" in text.split("- hotel.pdf : ", 1)[1]
    assert "Confirmez ou corrigez la nature et le montant" in text
