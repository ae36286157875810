"""Plain-data views of core objects for the chat (built inside a session, rendered as French text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core import declarations, recap_pdf
from core.checks import Problem
from core.french import format_amount, format_date, format_duration
from core.mail import addresses as intake
from core.models import EtatDeFrais, MissionType
from core.recap_pdf import mission_lines, status_lines, trip_line
from core.statuses import Part, PartStatus
from core.steps import Step, StepState, steps_for

__all__ = ["MISSION_MARKS", "Draft", "draft_of", "mission_line", "recap_text"]

_DECIDED = {PartStatus.VALIDATED, PartStatus.SENT_TO_PAYMENT}
MISSION_MARKS = "📨 envoyée à la DEC · ✅ validée · ❗ complément demandé · 📝 en cours · • à déclarer"


def _mark(efm: EtatDeFrais) -> str:
    statuses = {declarations.part_status(efm, p) for p in declarations.active_parts(efm)}
    if PartStatus.INFO_REQUESTED in statuses:
        return "❗"
    if statuses and statuses <= _DECIDED:
        return "✅"
    if efm.dossier_number and PartStatus.TO_VALIDATE in statuses:
        return "📨"
    return "📝" if efm.service_done is not None else "•"


def mission_line(efm: EtatDeFrais) -> str:
    """One line of the missions list (a button label); the marks are those of MISSION_MARKS."""
    m = efm.convocation.mission
    return f"{_mark(efm)} N° {m.number} · {format_date(m.start_at)} · {MissionType(m.mission_type).label}"


@dataclass
class Draft:
    """What the declaration dialog needs to render any step of one état de frais."""

    efm_id: int
    mission_number: str
    mission_start: datetime
    card: str
    statuses: str
    editable: bool
    dossier_number: str | None
    has_pay: bool
    has_travel: bool
    quantity_field: str | None
    service_done: bool | None
    quantity: int | None
    departure_at: datetime | None
    return_at: datetime | None
    trips: list[dict[str, Any]]  # id, text, depart_at/arrive_at (ISO), depart_city, arrive_city, mode, distance_km
    last_arrival_city: str | None
    residence: str
    centre_commune: str
    nights: int
    lodging_amount: str | None
    meals: int | None
    car_fiscal_hp: int | None
    car_yearly_km: int | None
    receipts_total: str | None
    receipts_by_email: bool
    mail_address: str
    mail_reference: str
    admin_meals: int
    steps: list[Step]  # core.steps: those that apply, in order, with their state

    @property
    def step_names(self) -> list[str]:
        return [step.name.value for step in self.steps]

    @property
    def submitted(self) -> bool:
        return self.steps[-1].state is StepState.ANSWERED

    @property
    def uses_car(self) -> bool:
        return any(trip["mode"] == "voiture" for trip in self.trips)

    @property
    def quantity_text(self) -> str:
        if self.quantity is None:
            return "—"
        if self.quantity_field == "practical_minutes":
            return format_duration(self.quantity)
        return str(self.quantity)


def draft_of(session: Session, efm: EtatDeFrais) -> Draft:
    mission = efm.convocation.mission
    person = efm.convocation.intervenant
    qfield = declarations.quantity_field(efm)
    steps = steps_for(efm)
    return Draft(
        efm_id=efm.id,
        mission_number=mission.number,
        mission_start=mission.start_at,
        card="\n".join(mission_lines(mission)),
        statuses="\n".join(status_lines(efm)),
        editable=steps[-1].state is not StepState.ANSWERED,
        dossier_number=efm.dossier_number,
        has_pay=declarations.part_status(efm, Part.PAY) is not PartStatus.NO_COSTS,
        has_travel=declarations.part_status(efm, Part.TRAVEL) is not PartStatus.NO_COSTS,
        quantity_field=qfield,
        service_done=efm.service_done,
        quantity=getattr(efm, qfield) if qfield else None,
        departure_at=efm.departure_at,
        return_at=efm.return_at,
        trips=[
            {
                "id": t.id,
                "text": trip_line(t),
                "depart_at": t.depart_at.isoformat(),
                "depart_city": t.depart_city,
                "arrive_at": t.arrive_at.isoformat(),
                "arrive_city": t.arrive_city,
                "mode": t.mode,
                "distance_km": t.distance_km,
            }
            for t in efm.trips
        ],
        last_arrival_city=efm.trips[-1].arrive_city if efm.trips else None,
        residence=person.residence_commune,
        centre_commune=mission.centre.commune,
        nights=efm.nights or 0,
        lodging_amount=format_amount(efm.lodging_amount) if efm.lodging_amount is not None else None,
        meals=efm.meals,
        car_fiscal_hp=efm.car_fiscal_hp,
        car_yearly_km=efm.car_yearly_km,
        receipts_total=format_amount(efm.receipts_total) if efm.receipts_total is not None else None,
        receipts_by_email=efm.receipts_by_email,
        mail_address=intake.personal_address(person),
        mail_reference=intake.email_reference(efm),
        admin_meals=efm.admin_meals or 0,
        steps=steps,
    )


def _recap_item(line: str) -> str:
    """A bulleted recap line; an indented line (one trip of the list) goes under the one above it."""
    return f"      {line.strip()}" if line.startswith("  ") else f"  • {line}"


def recap_text(session: Session, efm: EtatDeFrais, blocking: list[Problem] | None = None) -> str:
    """The recap (same sections as the PDF) as chat text (``blocking``: ``core.checks.blocking_problems``
    of this dossier, when already computed)."""
    blocks = []
    for title, lines in recap_pdf.recap_sections(session, efm, blocking):
        if title in ("Intervenant",):
            continue
        body = "\n".join(line if title == "Mission" else _recap_item(line) for line in lines)
        blocks.append(body if title == "Mission" else f"{title} :\n{body}")
    return "\n\n".join(blocks)
