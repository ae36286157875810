"""Nothing of one person reaches another: a receipt someone else also sent is flagged to the DEC only; the
intervenant hears of duplicates only within their own dossiers (recap, stored flags as the DEC reads them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core import prechecks
from core.missions import efms_of_intervenant
from core.models import Convocation, EtatDeFrais, Intervenant
from core.recap_pdf import recap_form, recap_sections, render_recap_pdf
from core.receipts import add_receipt
from tests.bot.helpers import pdf_text, receipt_pdf


def _recap_text(session, efm: EtatDeFrais) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(line for _, lines in recap_sections(session, efm) for line in lines)


def test_a_receipt_sent_by_someone_else_is_told_to_the_dec_only(db, demo: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    data = receipt_pdf("Hotel du Port - Total TTC : 84,00 EUR")
    with db() as s:
        claire = s.scalar(select(Intervenant).where(Intervenant.numero == "D1001"))
        paul = s.scalar(select(Intervenant).where(Intervenant.numero != "D1001").order_by(Intervenant.numero))
        claire_efm, paul_efm = efms_of_intervenant(s, claire.id)[0], efms_of_intervenant(s, paul.id)[0]
        claire_efm.dossier_number = "2026-000001"
        add_receipt(s, claire_efm, data, "facture.pdf", source="chat", actor="test")
        add_receipt(s, paul_efm, data, "photo-23.pdf", source="chat", actor="test")
        stored = prechecks.refresh_flags(s, paul_efm)
        recap = _recap_text(s, paul_efm)
        for_paul = prechecks.compute_flags(s, paul_efm)
        form = pdf_text(recap_form(s, paul_efm, prechecks.stored_flags(paul_efm)))  # as after « Je confirme »
        live = pdf_text(render_recap_pdf(s, paul_efm.id))
    dec = [f for f in stored if f.code == prechecks.DUPLICATE_OTHER_PERSON]
    assert len(dec) == 1 and "Claire MARTIN" in dec[0].message and "2026-000001" in dec[0].message
    assert prechecks.DUPLICATE_OTHER_PERSON not in {f.code for f in for_paul}
    assert "2026-000001" not in recap and "MARTIN" not in recap and "même fichier" not in recap
    assert "Points à vérifier" in form and "MARTIN" not in form and form == live  # the points of the data


def test_a_receipt_sent_twice_by_the_same_person_names_their_own_dossier(db, demo: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    data = receipt_pdf("Parking - Total TTC : 12,00 EUR")
    with db() as s:
        owner_id = s.scalar(
            select(Convocation.intervenant_id)
            .group_by(Convocation.intervenant_id)
            .having(func.count() > 1)
            .order_by(Convocation.intervenant_id)
        )
        first, second = efms_of_intervenant(s, owner_id)[:2]
        first.dossier_number = "2026-000007"
        add_receipt(s, first, data, "parking.pdf", source="chat", actor="test")
        add_receipt(s, second, data, "parking.pdf", source="chat", actor="test")
        prechecks.refresh_flags(s, second)
        recap = _recap_text(s, second)
    assert "« parking.pdf » est le même fichier qu'un justificatif déjà envoyé pour votre dossier 2026-000007" in recap
