"""Line ends pinned in the ledger key: the same message arriving with CRLF (SMTP, IMAP) and with LF (a mailbox
file, a forwarder that rewrote them) is one ledger row; a change of the text itself is another."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.db import session_scope
from core.mail import ledger as mail_ledger
from core.models import InboundMail
from tests.mail import factory


def rows() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(InboundMail)) or 0


def test_crlf_and_lf_deliveries_of_one_message_are_one_row(any_db: Any) -> None:
    msg = factory.message(
        body="Bonjour,\n\nvoici le justificatif du train.\nCordialement,\nInès",
        attachments=[(factory.pdf_bytes("Billet 42,50 EUR"), "billet.pdf", "application/pdf")],
    )
    crlf = factory.wire(msg)
    lf = crlf.replace(b"\r\n", b"\n")
    assert b"\r\n" in crlf and b"\r" not in lf  # really two spellings of the same message
    first = mail_ledger.store_raw(crlf, source="smtp")
    again = mail_ledger.store_raw(lf, source="imap")
    assert again == mail_ledger.StoreResult(first.mail_id, True) and rows() == 1
    assert mail_ledger.message_identity(crlf) == mail_ledger.message_identity(lf)
    edited = mail_ledger.store_raw(lf.replace(b"du train", b"du car"), source="imap")
    assert not edited.duplicate and rows() == 2  # the normalisation hides line ends only, not a change of text
