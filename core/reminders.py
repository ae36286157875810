"""Reminders through the outbox: declaration deadline approaching, receipts announced but missing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.french import format_amount, format_date
from core.missions import efms_of_intervenant, mission_end
from core.models import Convocation, EtatDeFrais, Receipt, utcnow
from core.settings import get_settings
from core.statuses import EDITABLE, PartStatus

REMIND_DAYS_BEFORE = (14, 3)  # reminders this many days before the deadline
RECEIPTS_GRACE = timedelta(days=3)  # after submission, before a missing receipt is reminded


def deadline_for(mission_day: date) -> date:
    """The yearly declaration deadline (``declaration_deadline`` MM-DD) that follows the mission."""
    month, day = (int(x) for x in get_settings().declaration_deadline.split("-"))
    deadline = date(mission_day.year, month, day)
    return deadline if deadline >= mission_day else date(mission_day.year + 1, month, day)


def _open(efm: EtatDeFrais) -> bool:
    statuses = {PartStatus(efm.pay_status), PartStatus(efm.travel_status)} - {PartStatus.NO_COSTS}
    return bool(statuses) and statuses <= EDITABLE and efm.dossier_number is None


def queue_reminders(session: Session, today: date) -> int:
    """Queue the reminders due on ``today``; each is queued once (dedupe keys). Returns how many."""
    queued = 0
    person_ids = session.scalars(select(Convocation.intervenant_id).distinct())
    for person_id in person_ids:
        for efm in efms_of_intervenant(session, person_id):
            mission = efm.convocation.mission
            if _open(efm) and mission_end(mission).date() < today:
                deadline = deadline_for(mission.start_at.date())
                days_left = (deadline - today).days
                bucket = next((d for d in sorted(REMIND_DAYS_BEFORE) if 0 <= days_left <= d), None)
                if bucket is not None:
                    queued += _notify(
                        session,
                        efm,
                        "deadline_reminder",
                        f"reminder:{efm.id}:{deadline}:{bucket}",
                        f"Rappel : votre état de frais de la mission n° {mission.number} du "
                        f"{format_date(mission.start_at)} n'est pas encore validé. Date limite : "
                        f"{format_date(deadline)}.",
                    )
            declared = efm.receipts_total or Decimal(0)
            missing = (
                efm.submitted_at is not None
                and declared > 0
                and efm.submitted_at < utcnow() - RECEIPTS_GRACE
                and session.scalar(select(Receipt.id).where(Receipt.efm_id == efm.id).limit(1)) is None
            )
            if missing:
                queued += _notify(
                    session,
                    efm,
                    "missing_receipt",
                    f"missing_receipt:{efm.id}",
                    f"Le dossier n° {efm.dossier_number} déclare {format_amount(declared)} "
                    "de justificatifs, mais aucun n'a été reçu. Envoyez-les dans la conversation "
                    "ou par e-mail.",
                )
    return queued


def _notify(session: Session, efm: EtatDeFrais, kind: str, key: str, text: str) -> int:
    return outbox.notify_intervenant(
        session, efm.convocation.intervenant, kind=kind, text=text, subject="Imag'in : rappel", dedupe_key=key
    )
