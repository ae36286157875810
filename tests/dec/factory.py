"""Build submitted dossiers on the demo data, through the real use cases."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import declarations as d
from core import receipts
from core.models import Convocation, EtatDeFrais, Mission, StaffUser

ACTOR = "intervenant:test"


def efm_by_mission(session: Session, number: str) -> EtatDeFrais:
    return session.scalars(
        select(EtatDeFrais).join(EtatDeFrais.convocation).join(Convocation.mission).where(Mission.number == number)
    ).one()


def staff(session: Session, login: str) -> StaffUser:
    return session.scalars(select(StaffUser).where(StaffUser.login == login)).one()


def receipt_png(text: str = "HOTEL DU PORT  TOTAL TTC 80,00 EUR") -> bytes:
    """A small real PNG picture of a receipt line."""
    img = Image.new("RGB", (640, 160), "white")
    ImageDraw.Draw(img).text((20, 60), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def submit_dossier(
    session: Session,
    mission: str,
    *,
    declared: Decimal | None = Decimal("85.00"),
    read_total: Decimal | None = Decimal("80.00"),
    quantity: int = 100,
) -> int:
    """Declare and submit the demo mission ``mission``: quantity, times, a trip, a receipt read as
    ``read_total`` (None: no receipt). Returns the état de frais id."""
    efm = efm_by_mission(session, mission)
    start = efm.convocation.mission.start_at
    d.set_service_done(session, efm, True, ACTOR)
    if d.quantity_field(efm):
        d.set_quantity(session, efm, quantity, ACTOR)
    d.set_times(session, efm, start - timedelta(hours=2), start + timedelta(hours=10), ACTOR)
    d.add_trip(session, efm, start - timedelta(hours=2), "ST LO", start - timedelta(minutes=30), "CAEN", ACTOR)
    d.set_meals(session, efm, 1, 0, ACTOR)
    if declared is not None:
        d.set_receipts_total(session, efm, declared, ACTOR)
    if read_total is not None:
        receipt, _ = receipts.add_receipt(session, efm, receipt_png(), "facture-hotel.png", source="chat", actor=ACTOR)
        session.info.pop("ocr_after_commit", None)  # the reading is recorded here, not by the OCR worker
        receipts.record_reading(
            session,
            receipt.id,
            # a ticket of the declared trip (its kind as the reading gives it)
            {
                "total": str(read_total),
                "currency": "EUR",
                "confidence": 0.93,
                "engine": "ocr",
                "pages": 1,
                "kind": "train",
            },
        )
    d.submit(session, efm, ACTOR)
    session.flush()
    return efm.id
