"""Receipts replaced and removed by e-mail (« remplacer justificatif n° … », « supprimer justificatif n° … »), over
real SMTP, answered through the relay."""

from __future__ import annotations

from sqlalchemy import select

from core.mail import commands
from core.models import MailState, Receipt
from tests.mail import factory
from tests.mail.conftest import wait_for
from tests.mail.test_smtp_intake import reply_for, send, settled

INES = "ines.leroy@example.org"  # one open mission, DEMO-301


def test_the_subject_names_a_receipt_to_remove_or_replace() -> None:
    assert commands.parse("Remplacer le justificatif n° 57") == commands.Command("replace", 57)
    assert commands.parse("RE: supprimer justificatif no 8") == commands.Command("remove", 8)
    assert commands.parse("supprimer justificatif numéro: 12") == commands.Command("remove", 12)
    assert commands.parse("Justificatifs mission DEMO-301") is None
    assert commands.parse("remplacer le billet") is None


def _receipts(mail_env, efm_id: int) -> dict[str, Receipt]:  # type: ignore[no-untyped-def]
    with mail_env() as session:
        found = session.scalars(select(Receipt).where(Receipt.efm_id == efm_id)).all()
        session.expunge_all()
        return {r.original_name: r for r in found}


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    return reply.get_content().replace("\r\n", "\n")


def test_a_receipt_is_replaced_then_removed_by_the_subject(service, mail_env, reply_sink):  # type: ignore[no-untyped-def]
    taxi, hotel = factory.pdf_bytes("Taxi - Total 18,00 EUR"), factory.pdf_bytes("Hotel du Port - Total 95,00 EUR")
    first = factory.message(
        attachments=[(taxi, "taxi.pdf", "application/pdf"), (hotel, "hotel.pdf", "application/pdf")]
    )
    send(service.port, first)
    efm_id = wait_for(lambda: settled(mail_env, first["Message-ID"]), what="processing").efm_id
    ids = {name: r.id for name, r in _receipts(mail_env, efm_id).items()}
    text = _text(reply_for(reply_sink, INES))
    assert f"  - taxi.pdf (justificatif n° {ids['taxi.pdf']})" in text  # the number the commands use
    assert "« remplacer justificatif n° 57 »" in text  # how to use it

    sharper = factory.pdf_bytes("Taxi - Total 21,00 EUR")
    second = factory.message(
        subject=f"Remplacer le justificatif n° {ids['taxi.pdf']}",
        attachments=[(sharper, "taxi-net.pdf", "application/pdf")],
    )
    send(service.port, second)
    mail = wait_for(lambda: settled(mail_env, second["Message-ID"]), what="processing")
    assert mail.state == MailState.PROCESSED and mail.efm_id == efm_id
    kept = _receipts(mail_env, efm_id)
    assert sorted(kept) == ["hotel.pdf", "taxi-net.pdf"]  # replaced, not added
    assert kept["taxi-net.pdf"].id == ids["taxi.pdf"] and kept["taxi-net.pdf"].ocr_status == "pending"
    text = _text(reply_for(reply_sink, INES, count=2))
    assert f"Le fichier du justificatif n° {ids['taxi.pdf']} a été remplacé : il va être lu à nouveau." in text
    assert f"  - taxi-net.pdf (remplace le justificatif n° {ids['taxi.pdf']})" in text

    third = factory.message(subject=f"supprimer justificatif {ids['hotel.pdf']}", body="Envoyé par erreur.")
    send(service.port, third)
    wait_for(lambda: settled(mail_env, third["Message-ID"]), what="processing")
    assert sorted(_receipts(mail_env, efm_id)) == ["taxi-net.pdf"]
    text = _text(reply_for(reply_sink, INES, count=3))
    assert f"Le justificatif n° {ids['hotel.pdf']} (« hotel.pdf ») a été supprimé." in text
    assert "ne contenait aucun justificatif" not in text

    again = factory.message(subject=f"supprimer justificatif {ids['hotel.pdf']}")  # gone: said, nothing else changes
    send(service.port, again)
    assert wait_for(lambda: settled(mail_env, again["Message-ID"]), what="processing").state == MailState.QUARANTINED
    text = _text(reply_for(reply_sink, INES, count=4))
    assert f"Le justificatif n° {ids['hotel.pdf']} ne fait partie d'aucun de vos dossiers." in text
    assert sorted(_receipts(mail_env, efm_id)) == ["taxi-net.pdf"]


def _processed(mail_env, message_id: str):  # type: ignore[no-untyped-def]
    return wait_for(lambda: settled(mail_env, message_id), what="processing")


def test_nobody_changes_another_persons_receipt_by_its_number(service, mail_env, reply_sink):  # type: ignore[no-untyped-def]
    first = factory.message(
        attachments=[(factory.pdf_bytes("Hotel - Total 95,00 EUR"), "hotel.pdf", "application/pdf")]
    )
    send(service.port, first)
    efm_id = wait_for(lambda: settled(mail_env, first["Message-ID"]), what="processing").efm_id
    hotel = _receipts(mail_env, efm_id)["hotel.pdf"]
    other = "paul.durand@example.org"
    for subject, files in (
        (f"supprimer justificatif n° {hotel.id}", []),
        (f"remplacer justificatif n° {hotel.id}", [(factory.pdf_bytes("Total 1,00 EUR"), "x.pdf", "application/pdf")]),
    ):
        forged = factory.message(sender=other, subject=subject, attachments=files)
        send(service.port, forged)
        assert _processed(mail_env, forged["Message-ID"]).efm_id != efm_id
    text = _text(reply_for(reply_sink, other, count=2))
    assert f"Le justificatif n° {hotel.id} ne fait partie d'aucun de vos dossiers." in text
    kept = _receipts(mail_env, efm_id)
    assert list(kept) == ["hotel.pdf"] and kept["hotel.pdf"].sha256 == hotel.sha256  # neither removed nor replaced
