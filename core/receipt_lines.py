"""Receipt lines: each receipt as an expense line, proposed by its reading, confirmed or corrected by the
intervenant in one step; the declared receipts total follows the confirmed lines.

The chat calls :func:`confirm` ("Montant lu : 23,40 € — Utiliser ?") and :func:`correct` ("Ce justificatif est :
Restaurant ✓ / autre…"), and lists :func:`line_views`; the e-mail replies and the DEC console show the same views.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, declarations, prechecks
from core.errors import IllegalTransition, InvalidInput, NotFound
from core.justification import (
    KIND_LABELS,
    DeclarationFacts,
    Justification,
    LineFacts,
    LineJustification,
    TripFacts,
    describe,
    justify,
)
from core.missions import mission_window
from core.models import EtatDeFrais, LineKind, LineState, Receipt, ReceiptLine

log = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("100000")
MAX_NIGHTS_PER_RECEIPT = 31
# Kind names a reading may use for ours (missing or unknown: the kind is not known)
_READ_KINDS = {k.value: k for k in LineKind} | {
    "hotel": LineKind.LODGING,
    "restaurant": LineKind.MEAL,
    "train_ticket": LineKind.TRAIN,
    "coach_ticket": LineKind.COACH,
    "flight": LineKind.PLANE,
    "car_rental": LineKind.CAR_HIRE,
}
_LINE_FIELDS = ["state", "kind", "amount_confirmed", "nights"]


@dataclass(frozen=True)
class LineView:
    """One receipt with its line and what it justifies, ready to show."""

    receipt: Receipt
    line: ReceiptLine
    justification: LineJustification

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.line.kind or "", "Nature à confirmer")

    @property
    def text(self) -> str:
        """« hotel.pdf : Hôtel (hébergement), 95,00 € : nuit(s) d'hôtel déclarée(s) »; « … : lecture en cours »."""
        if self.line.state == LineState.PENDING:  # nothing read yet: not « illisible »
            return f"{self.receipt.original_name} : lecture en cours"
        return f"{self.receipt.original_name} : {describe(self.justification, self.line.amount)}"


def line_of(session: Session, receipt: Receipt) -> ReceiptLine:
    """The receipt's line (made pending when it has none yet)."""
    if receipt.line is None:
        receipt.line = ReceiptLine(state=LineState.PENDING)
        session.flush()
    assert receipt.line is not None
    return receipt.line


def _parse_day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _parse_time(value: Any) -> time | None:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _text(value: Any, limit: int) -> str | None:
    return " ".join(value.split())[:limit] or None if isinstance(value, str) else None


def propose_from_reading(session: Session, receipt: Receipt, reading: dict[str, Any]) -> ReceiptLine:
    """Fill the line from a reading (keys of ``ocr.Reading.to_dict()``; any may be missing: unknown).

    What the intervenant confirmed or corrected stays; what was read is kept beside it.
    """
    line = line_of(session, receipt)
    raw_kind = reading.get("kind")
    kind = _READ_KINDS.get(raw_kind.strip().lower()) if isinstance(raw_kind, str) else None
    if kind is LineKind.OTHER:
        kind = None  # "other" from a reading means it could not tell: the intervenant says what it is
    line.kind_read = kind
    confidence = reading.get("kind_confidence")
    line.kind_confidence = float(confidence) if isinstance(confidence, int | float) else None
    line.amount_read = receipt.ocr_total
    line.spent_on = receipt.ocr_date
    line.spent_at = _parse_time(reading.get("time"))
    line.merchant = _text(reading.get("merchant"), 200)
    raw_trip = reading.get("trip")
    trip: dict[str, Any] = raw_trip if isinstance(raw_trip, dict) else {}
    line.from_city = _text(trip.get("from_city"), 120)
    line.to_city = _text(trip.get("to_city"), 120)
    line.travel_date = _parse_day(trip.get("travel_date"))
    if not line.settled:
        line.state = LineState.PROPOSED
        line.kind = kind
    session.flush()
    return line


def _own_receipt(session: Session, efm: EtatDeFrais, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.efm_id != efm.id:
        raise NotFound("Justificatif introuvable.")
    return receipt


def _snapshot(line: ReceiptLine) -> dict[str, Any]:
    return {f: getattr(line, f) for f in _LINE_FIELDS}


def _after_change(session: Session, efm: EtatDeFrais, actor: str) -> None:
    sync_declared_total(session, efm, actor)
    prechecks.refresh_flags(session, efm)


def confirm(session: Session, efm: EtatDeFrais, receipt_id: int, actor: str) -> ReceiptLine:
    """The intervenant accepts the line as read (its kind and amount)."""
    declarations.require_editable(efm)
    receipt = _own_receipt(session, efm, receipt_id)
    line = line_of(session, receipt)
    if line.kind is None:
        raise InvalidInput(
            f"« {receipt.original_name} » : choisissez ce qu'est ce justificatif (train, hôtel, repas…)."
        )
    amount = line.amount_confirmed if line.amount_confirmed is not None else line.amount_read
    if amount is None:
        raise InvalidInput(f"« {receipt.original_name} » : le montant n'a pas pu être lu. Indiquez-le. Exemple : 23,40")
    before = _snapshot(line)
    line.amount_confirmed = amount
    if line.state != LineState.CORRECTED:  # a plain str once loaded (String column): compare by value
        line.state = LineState.CONFIRMED
    audit.record(session, actor, "receipt_line", line.id, "line_confirmed", before, _snapshot(line))
    _after_change(session, efm, actor)
    return line


def correct(
    session: Session,
    efm: EtatDeFrais,
    receipt_id: int,
    actor: str,
    *,
    kind: str | None = None,
    amount: Decimal | None = None,
    nights: int | None = None,
) -> ReceiptLine:
    """The intervenant says what the receipt is, its amount or (hotel) its nights; the rest stays as read."""
    declarations.require_editable(efm)
    receipt = _own_receipt(session, efm, receipt_id)
    line = line_of(session, receipt)
    if kind is not None and kind not in {k.value for k in LineKind}:
        choices = ", ".join(KIND_LABELS.values())
        raise InvalidInput(f"Nature de justificatif inconnue. Choisissez parmi : {choices}.")
    if amount is not None:
        try:
            amount = Decimal(amount).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise InvalidInput("Montant invalide. Exemple : 23,40") from None
        if not Decimal(0) < amount < MAX_AMOUNT:
            raise InvalidInput("Le montant doit être positif (moins de 100 000 €). Exemple : 23,40")
    if nights is not None and not 1 <= nights <= MAX_NIGHTS_PER_RECEIPT:
        raise InvalidInput(f"Nombre de nuits invalide (1 à {MAX_NIGHTS_PER_RECEIPT}).")
    before = _snapshot(line)
    if kind is not None:
        line.kind = LineKind(kind)
    if amount is not None:
        line.amount_confirmed = amount
    elif line.amount_confirmed is None:
        line.amount_confirmed = line.amount_read
    if nights is not None:
        line.nights = nights
    changed = (line.kind != line.kind_read) or (line.amount_confirmed != line.amount_read)
    line.state = LineState.CORRECTED if changed else LineState.CONFIRMED
    if line.kind is None or line.amount_confirmed is None:
        line.state = LineState.PROPOSED if line.amount_read is not None or line.kind else line.state
    audit.record(session, actor, "receipt_line", line.id, "line_corrected", before, _snapshot(line))
    _after_change(session, efm, actor)
    return line


def sync_declared_total(session: Session, efm: EtatDeFrais, actor: str) -> Decimal | None:
    """Once every line of a draft is confirmed, the declared receipts total is their sum (audited);
    while one cannot be read, the total stays as typed by hand (and a difference is flagged)."""
    lines = [line_of(session, r) for r in _receipts(session, efm.id)]
    if not lines or not all(ln.settled and ln.amount_confirmed is not None for ln in lines):
        return None
    total = sum((ln.amount_confirmed or Decimal(0) for ln in lines), Decimal("0.00"))
    try:
        declarations.require_editable(efm)
    except IllegalTransition:
        return None
    if efm.receipts_total != total:
        declarations.set_receipts_total(session, efm, total, actor)
    return total


def _receipts(session: Session, efm_id: int) -> list[Receipt]:
    return list(session.scalars(select(Receipt).where(Receipt.efm_id == efm_id).order_by(Receipt.id)))


def facts_of(session: Session, efm: EtatDeFrais) -> tuple[DeclarationFacts, list[LineFacts]]:
    """The declaration and its receipt lines as the matching sees them."""
    mission = efm.convocation.mission
    declaration = DeclarationFacts(
        mission_date=mission.start_at.date(),
        window=mission_window(mission),
        departure_at=efm.departure_at,
        return_at=efm.return_at,
        trips=[TripFacts(t.depart_at, t.depart_city, t.arrive_at, t.arrive_city, t.mode) for t in efm.trips],
        nights=efm.nights or 0,
        meals=efm.meals,
    )
    lines = []
    for r in _receipts(session, efm.id):
        ln = line_of(session, r)
        lines.append(
            LineFacts(
                receipt_id=r.id,
                name=r.original_name,
                kind=ln.kind,
                amount=ln.amount,
                spent_on=ln.spent_on,
                spent_at=ln.spent_at,
                from_city=ln.from_city,
                to_city=ln.to_city,
                travel_date=ln.travel_date,
                nights=ln.nights,
                pending=ln.state == LineState.PENDING,
            )
        )
    return declaration, lines


def justification_of(session: Session, efm: EtatDeFrais) -> Justification:
    """What each receipt of the dossier justifies, and what does not match."""
    declaration, lines = facts_of(session, efm)
    return justify(declaration, lines)


def line_views(session: Session, efm: EtatDeFrais) -> list[LineView]:
    """Every receipt of the dossier with its line and what it justifies, in the order received."""
    result = justification_of(session, efm)
    views = []
    for r in _receipts(session, efm.id):
        j = result.of(r.id)
        assert j is not None
        views.append(LineView(r, line_of(session, r), j))
    return views
