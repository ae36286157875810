"""The estimate owed for a declaration, from the rules in force at the mission's date."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import receipt_lines
from core.french import format_amount, format_quantity
from core.models import EtatDeFrais, Mission, MissionType, Receipt
from core.rules import RECEIPTS_SOURCE, Estimate, EstimateInput, EstimateLine, estimate
from core.statuses import PartStatus


def _rate_group(mission: Mission) -> str | None:
    """Copies are paid by the exam's group; orals and practicals by its hourly group if it has one."""
    exam = mission.exam
    if exam.rate_group is None:
        return None
    if mission.mission_type in (MissionType.ORAL, MissionType.PRATIQUE) and exam.hourly_rate_group:
        return exam.hourly_rate_group
    return exam.rate_group


def estimate_input(session: Session, efm: EtatDeFrais) -> EstimateInput:
    """Gather what the rules need from an état de frais and its mission."""
    mission = efm.convocation.mission
    car_km = sum(t.distance_km for t in efm.trips if t.mode == "voiture")
    lodging, transport, transport_count = efm.lodging_amount, None, 0
    if session.scalar(select(exists().where(Receipt.efm_id == efm.id))):
        # receipts in hand: each one pays what it justifies (a meal receipt is only proof of the meal)
        result = receipt_lines.justification_of(session, efm)
        lodging = result.lodging_total if result.lodging_count else None
        transport, transport_count = result.transport_total, result.transport_count
    return EstimateInput(
        mission_date=mission.start_at.date(),
        mission_type=str(mission.mission_type),
        rate_group=_rate_group(mission),
        has_pay_part=mission.has_pay_part and efm.pay_status != PartStatus.NO_COSTS,
        has_travel_part=mission.has_travel_part and efm.travel_status != PartStatus.NO_COSTS,
        service_done=efm.service_done,
        copies=efm.copies,
        candidates=efm.candidates,
        practical_minutes=efm.practical_minutes,
        oral_minutes_per_candidate=mission.exam.oral_minutes_per_candidate,
        departure_at=efm.departure_at,
        return_at=efm.return_at,
        nights=efm.nights or 0,
        lodging_amount=lodging,
        lodging_zone=mission.centre.lodging_zone,
        rqth=efm.convocation.intervenant.rqth,
        meals=efm.meals,
        admin_meals=efm.admin_meals or 0,
        car_km=car_km,
        car_fiscal_hp=efm.car_fiscal_hp,
        car_yearly_km=efm.car_yearly_km,
        receipts_total=efm.receipts_total,
        transport_receipts=transport,
        transport_receipt_count=transport_count,
    )


def estimate_for(session: Session, efm: EtatDeFrais) -> Estimate:
    """What the declaration is expected to be paid (pay part and travel part)."""
    return estimate(estimate_input(session, efm))


def line_quantity(line: EstimateLine) -> str:
    """The quantity column of an estimate line in French: « 95 copies », « 62 km »; a receipts total,
    paid at its amount, reads « sur justificatifs » (not « 1 forfait »)."""
    if line.rule_source == RECEIPTS_SOURCE:
        return "sur justificatifs"
    return format_quantity(line.quantity, line.unit_fr)


def line_rate(line: EstimateLine) -> str:
    """The rate column: the rate per unit, or « montant réel » for a receipts total."""
    if line.rule_source == RECEIPTS_SOURCE:
        return "montant réel"
    return format_amount(line.rate)
