"""The SMTP door end to end: real SMTP over a socket to the running service, replies caught by a sink."""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select

from core.models import InboundMail, MailState, Receipt
from tests.mail import factory
from tests.mail.conftest import INTAKE, wait_for


def send(port: int, msg, rcpt: str = INTAKE, sender: str | None = None) -> None:  # type: ignore[no-untyped-def]
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.send_message(msg, from_addr=sender or str(msg["From"]), to_addrs=[rcpt])


def deliver(port: int, raw: bytes, rcpt: str = INTAKE) -> tuple[int, bytes]:
    """One SMTP transaction; returns the server's answer to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail("ines.leroy@example.org")
        client.rcpt(rcpt)
        return client.data(raw)


def settled(db, message_id: str) -> InboundMail | None:  # type: ignore[no-untyped-def]
    with db() as session:
        mail = session.scalar(select(InboundMail).where(InboundMail.message_id == message_id))
        if mail is None or mail.state in (MailState.RECEIVED, MailState.PROCESSING):
            return None
        mail.attachments  # noqa: B018 - load before the session closes
        return mail


def reply_for(sink, address: str, count: int = 1):  # type: ignore[no-untyped-def]
    return wait_for(
        lambda: len(sink.replies_to(address)) >= count and sink.replies_to(address), 60, f"reply to {address}"
    )[-1]


def test_pdf_and_photo_are_accepted_for_the_only_open_mission(service, mail_env, reply_sink):
    from core.models import Intervenant, OutboxMessage

    with mail_env() as session:  # ines uses the bot too: she gets a chat notification
        session.scalar(select(Intervenant).where(Intervenant.numero == "D1003")).telegram_user_id = 777
    pdf, jpg = factory.pdf_bytes(), factory.photo_bytes()
    msg = factory.message(attachments=[(pdf, "billet.pdf", "application/pdf"), (jpg, "repas.jpg", "image/jpeg")])
    send(service.port, msg)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    assert mail.state == MailState.PROCESSED
    assert [a.state for a in mail.attachments] == ["accepted", "accepted"]
    with mail_env() as session:
        names = sorted(r.original_name for r in session.scalars(select(Receipt).where(Receipt.efm_id == mail.efm_id)))
    assert names == ["billet.pdf", "repas.jpg"]
    reply = reply_for(reply_sink, "ines.leroy@example.org")
    text = reply.get_content()
    assert "DEMO-301" in text and "Pièces acceptées" in text and "billet.pdf" in text
    assert "Reste à faire" in text and "Indiquer si la mission a été effectuée" in text
    with mail_env() as session:
        chat = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "telegram")).all()
    assert [(m.recipient, m.kind) for m in chat] == [("777", "mail_processed")]
    assert "2 justificatif(s) accepté(s)" in chat[0].text
    assert reply["In-Reply-To"] == msg["Message-ID"]
    assert reply["Auto-Submitted"] == "auto-replied"


def test_rfc2231_octet_stream_png_and_forwarded_mail(service, mail_env, reply_sink):
    inner = factory.message(
        sender="hotel@example.com",
        subject="Votre facture",
        attachments=[(factory.pdf_bytes("Hotel 89 EUR"), "facture hôtel.pdf", "application/pdf")],
    )
    msg = factory.message(
        subject="Fwd: facture",
        attachments=[
            (factory.pdf_bytes("Taxi 23 EUR"), "reçu taxi.pdf", "application/octet-stream"),
            (factory.photo_bytes("PNG", (320, 400), seed=3), "ticket.png", "image/png"),
        ],
    )
    msg.add_attachment(inner)
    msg.add_attachment(
        factory.pdf_bytes("Parking 6 EUR"),
        maintype="application",
        subtype="pdf",
        filename="parking.pdf",
        disposition="inline",
    )  # a PDF shown inline (Apple Mail)
    send(service.port, msg)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    assert mail.state == MailState.PROCESSED
    by_name = {a.filename: a for a in mail.attachments}
    assert set(by_name) == {"reçu taxi.pdf", "ticket.png", "facture hôtel.pdf", "parking.pdf"}
    assert all(a.state == "accepted" for a in mail.attachments)
    assert by_name["facture hôtel.pdf"].forwarded and by_name["reçu taxi.pdf"].detected_type == "application/pdf"


def test_wrong_type_oversized_and_logo(service, mail_env, reply_sink):
    msg = factory.message(
        subject="Mission DEMO-301",
        attachments=[
            (factory.docx_bytes(), "facture.pdf", "application/pdf"),  # a Word file named .pdf
            (factory.big_pdf_bytes(), "scan.pdf", "application/pdf"),
            (factory.pdf_bytes(), "ok.pdf", "application/pdf"),
        ],
    )
    msg.get_payload()[0].add_related(factory.logo_bytes(), maintype="image", subtype="png", cid="<logo@x>")
    send(service.port, msg)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    states = {a.filename or a.declared_type: a.state for a in mail.attachments}
    assert states == {
        "facture.pdf": "rejected",
        "scan.pdf": "rejected",
        "ok.pdf": "accepted",
        "image/png": "ignored",
    }
    text = reply_for(reply_sink, "ines.leroy@example.org").get_content()
    assert "Pièces refusées" in text
    assert "« facture.pdf » n'est pas un format accepté" in text
    assert "« scan.pdf » est trop volumineux" in text
    assert "logo" not in text.lower() or "image/png" not in text  # the signature logo is not reported


def test_unknown_sender_is_quarantined_and_answered_only_when_vouched_for(
    start_service, mail_env, reply_sink, monkeypatch
):
    from core.models import OutboxMessage
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_MAIL_TRUSTED_AUTHSERV_IDS", "mx.academie.test")
    reset_settings()
    service = start_service()
    silent = factory.message(
        sender="stranger@example.net", attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")]
    )
    send(service.port, silent)
    mail = wait_for(lambda: settled(mail_env, silent["Message-ID"]), what="processing")
    assert mail.state == MailState.QUARANTINED
    assert "aucun intervenant" in mail.quarantine_reason
    assert [a.state for a in mail.attachments] == ["held"]  # kept for the DEC, without an answer
    with mail_env() as session:
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "stranger@example.net")) is None
    vouched = factory.message(
        sender="known.domain@example.net",
        headers={"Authentication-Results": "mx.academie.test; spf=pass smtp.mailfrom=example.net"},
        attachments=[(factory.pdf_bytes("autre"), "a.pdf", "application/pdf")],
    )
    send(service.port, vouched)
    text = reply_for(reply_sink, "known.domain@example.net").get_content()
    assert "n'a pas pu être rattaché" in text and "mission 621" in text and "DEMO-" not in text


def test_ambiguous_mission_then_named_mission_and_dec_reassign(service, mail_env, reply_sink):
    from core.mail import intake as mail_intake
    from tests.core.helpers import efm_by_mission

    vague = factory.message(
        sender="claire.martin@example.org",
        subject="Mes reçus",
        attachments=[(factory.pdf_bytes("repas"), "repas.pdf", "application/pdf")],
    )
    send(service.port, vague)
    mail = wait_for(lambda: settled(mail_env, vague["Message-ID"]), what="processing")
    assert mail.state == MailState.QUARANTINED and "plusieurs missions" in mail.quarantine_reason
    with mail_env() as session:
        assert [m.id for m in mail_intake.quarantined(session)] == [mail.id]  # the DEC sees it
    text = reply_for(reply_sink, "claire.martin@example.org").get_content()
    assert "DEMO-101" in text and "DEMO-102" in text and "DEMO-103" in text

    named = factory.message(
        sender="claire.martin@example.org",
        subject="Justificatifs mission DEMO-102",
        attachments=[(factory.pdf_bytes("train"), "train.pdf", "application/pdf")],
    )
    send(service.port, named)
    done = wait_for(lambda: settled(mail_env, named["Message-ID"]), what="processing")
    assert done.state == MailState.PROCESSED
    with mail_env() as session:
        assert done.efm_id == efm_by_mission(session, "DEMO-102").id

    with mail_env() as session:  # the DEC attaches the vague message to DEMO-101
        target = efm_by_mission(session, "DEMO-101")
        mail_intake.reassign(session, mail.id, target.id, actor="staff:1")
    with mail_env() as session:
        again = session.get(InboundMail, mail.id)
        assert again.state == MailState.PROCESSED and again.efm_id == target.id
        assert [a.state for a in again.attachments] == ["accepted"]


def test_personal_address_matches_an_unregistered_sender(service, mail_env, reply_sink):
    from core.mail.addresses import personal_address
    from core.models import Intervenant

    with mail_env() as session:
        paul = session.scalar(select(Intervenant).where(Intervenant.numero == "D1002"))
        address = personal_address(paul)
        paul_address = paul.emails[0].address
    msg = factory.message(
        sender="paul.perso@example.com",
        to=address,
        subject="Mission DEMO-202",
        attachments=[(factory.pdf_bytes(), "peage.pdf", "application/pdf")],
    )
    send(service.port, msg, rcpt=address)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    assert mail.state == MailState.PROCESSED and mail.match_evidence == "personal_address"
    # the sender's address is neither on record nor vouched for: the answer goes to Paul's address on record
    assert "DEMO-202" in reply_for(reply_sink, paul_address).get_content()
    assert reply_sink.replies_to("paul.perso@example.com") == []


def test_dmarc_failure_goes_to_quarantine(service, mail_env, reply_sink):
    msg = factory.message(
        headers={"Authentication-Results": "mx.academie.test; spf=pass; dmarc=fail"},
        attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")],
    )
    send(service.port, msg)
    mail = wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing")
    assert mail.state == MailState.QUARANTINED and "dmarc=fail" in mail.quarantine_reason
    assert (
        "confirmer que ce message vient bien de votre adresse"
        in reply_for(reply_sink, "ines.leroy@example.org").get_content()
    )  # the registered intervenant is told, at her own address
    forged = factory.message(
        sender="nobody@example.net",
        headers={"Authentication-Results": "mx; dmarc=fail"},
        attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")],
    )
    send(service.port, forged)
    kept = wait_for(lambda: settled(mail_env, forged["Message-ID"]), what="processing")
    assert kept.state == MailState.QUARANTINED and [a.state for a in kept.attachments] == ["held"]
    with mail_env() as session:  # kept for the DEC, but no answer to a forged unknown address
        from core.models import OutboxMessage

        assert session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "nobody@example.net")) is None


def test_duplicate_delivery_is_processed_once_and_lookalike_is_not_skipped(service, mail_env, reply_sink):
    msg = factory.message(attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")])
    raw = factory.wire(msg)
    first = deliver(service.port, raw)
    # the same message again, through another relay (one more trace header)
    again = deliver(service.port, b"Received: from mx2.example.org; Mon, 1 Jun 2026 10:00:00 +0200\r\n" + raw)
    assert first[0] == again[0] == 250
    assert b"Already received" in again[1] and b"Already received" not in first[1]
    lookalike = factory.message(
        message_id=msg["Message-ID"],
        body="Autre contenu",
        attachments=[(factory.pdf_bytes("autre"), "a.pdf", "application/pdf")],
    )
    send(service.port, lookalike)  # same Message-ID and subject, different content
    with mail_env() as session:
        rows = session.scalars(select(InboundMail).where(InboundMail.message_id == msg["Message-ID"])).all()
        assert len(rows) == 2
    wait_for(lambda: len(reply_sink.replies_to("ines.leroy@example.org")) >= 2, what="two replies")
    with mail_env() as session:
        receipts = session.scalars(select(Receipt)).all()
    assert len(receipts) == 2


def test_malformed_mime_is_quarantined_and_answered(service, mail_env, reply_sink):
    raw = (
        b"From: ines.leroy@example.org\r\nTo: recus@imagin.test\r\nSubject: casse\r\n"
        b"Message-ID: <broken@example.org>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="NOPE"\r\n\r\n\x00\xff not mime at all\r\n'
    )
    with smtplib.SMTP("127.0.0.1", service.port, timeout=30) as client:
        client.sendmail("ines.leroy@example.org", [INTAKE], raw)
    mail = wait_for(lambda: settled(mail_env, "<broken@example.org>"), what="processing")
    assert mail.state == MailState.QUARANTINED and "mal formé" in mail.quarantine_reason
    assert "Renvoyez" in reply_for(reply_sink, "ines.leroy@example.org").get_content()

    nested = b"Subject: x\r\n\r\nbonjour\r\n"  # a nesting bomb that the e-mail parser itself gives up on
    for _ in range(3000):
        nested = b"Content-Type: message/rfc822\r\n\r\n" + nested
    bomb = (
        b"From: ines.leroy@example.org\r\nTo: recus@imagin.test\r\nSubject: gigogne\r\n"
        b"Message-ID: <nested@example.org>\r\nMIME-Version: 1.0\r\n" + nested
    )
    with smtplib.SMTP("127.0.0.1", service.port, timeout=30) as client:
        client.sendmail("ines.leroy@example.org", [INTAKE], bomb)
    mail = wait_for(lambda: settled(mail_env, "<nested@example.org>"), what="processing")
    assert mail.state == MailState.QUARANTINED and "illisible" in mail.quarantine_reason


def test_smtp_policy_recipients_and_size(service, mail_env):
    msg = factory.message(to="someone@imagin.test")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(service.port, msg, rcpt="someone@imagin.test")
    assert refused.value.recipients["someone@imagin.test"][0] == 550
    huge = factory.message(attachments=[(b"%PDF-1.4\n" + b"0" * (13 * 1024 * 1024), "x.pdf", "application/pdf")])
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused, smtplib.SMTPServerDisconnected)) as big:
        send(service.port, huge)
    if isinstance(big.value, smtplib.SMTPDataError | smtplib.SMTPSenderRefused):
        assert big.value.smtp_code == 552
    with mail_env() as session:
        assert session.scalars(select(InboundMail)).all() == []


def test_storage_failure_answers_451_and_the_retry_is_accepted(service, mail_env, imagin_env):
    store_root = imagin_env / "mail"
    if store_root.exists():
        import shutil

        shutil.rmtree(store_root)
    store_root.write_bytes(b"not a directory")  # the raw mail store cannot be written
    msg = factory.message(attachments=[(factory.pdf_bytes(), "a.pdf", "application/pdf")])
    with pytest.raises(smtplib.SMTPDataError) as failed:
        send(service.port, msg)
    assert failed.value.smtp_code == 451
    store_root.unlink()
    send(service.port, msg)  # the sender's retry
    assert wait_for(lambda: settled(mail_env, msg["Message-ID"]), what="processing").state == MailState.PROCESSED
