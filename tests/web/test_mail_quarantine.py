"""Quarantined inbound mail is listed in the console and reassigned to a dossier by a gestionnaire."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from core.models import InboundMail, MailState, Receipt
from tests.dec.factory import receipt_png
from tests.web.conftest import login


def _quarantined_mail() -> int:
    from core.mail import intake as mail_intake
    from mail_ingest.parsing import parse_message

    msg = EmailMessage()
    msg["From"] = "Inconnu <inconnu@example.net>"
    msg["To"] = "recus@imagin.localhost"
    msg["Subject"] = "Facture train"
    msg["Message-ID"] = "<quarantine-test@example.net>"
    msg.set_content("Bonjour, voici mon billet.")
    msg.add_attachment(
        receipt_png("SNCF BILLET TOTAL 42,50 EUR") + b"\0" * 20000,
        maintype="image",
        subtype="png",
        filename="billet.png",
    )
    raw = msg.as_bytes()
    stored = mail_intake.store_raw(
        raw, source="smtp", envelope_from="inconnu@example.net", envelope_to=["recus@imagin.localhost"]
    )
    assert mail_intake.process(stored.mail_id, parse_message(raw)) == MailState.QUARANTINED
    return stored.mail_id


def test_quarantined_mail_is_listed_for_gestionnaires_only(console) -> None:  # type: ignore[no-untyped-def]
    mail_id = _quarantined_mail()
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    page = c.get("/courriels").text
    assert "Facture train" in page and "billet.png" in page and "inconnu@example.net" in page
    r = c.post(f"/courriels/{mail_id}/rattacher", data={"csrf": token, "dossier": "2099-999999"})
    assert "introuvable" in c.get(r.headers["location"]).text
    chef = console.client()
    login(chef, "chef.0141274a", console.password("chef.0141274a"))
    assert chef.get("/courriels").status_code == 403


def test_quarantined_mail_is_reassigned_from_the_console(console) -> None:  # type: ignore[no-untyped-def]
    mail_id = _quarantined_mail()
    c = console.client()
    token = login(c, "dec.demo", console.password("dec.demo"))
    with console.db() as s:
        from core.models import EtatDeFrais

        number = s.get(EtatDeFrais, console.ids["alencon"]).dossier_number
        before = len(s.scalars(select(Receipt).where(Receipt.efm_id == console.ids["alencon"])).all())
    r = c.post(f"/courriels/{mail_id}/rattacher", data={"csrf": token, "dossier": number})
    assert r.status_code == 303
    assert f"rattaché au dossier {number}" in c.get(r.headers["location"]).text
    with console.db() as s:
        assert s.get(InboundMail, mail_id).state == MailState.PROCESSED
        after = s.scalars(select(Receipt).where(Receipt.efm_id == console.ids["alencon"])).all()
        assert len(after) == before + 1 and after[-1].original_name == "billet.png"
