"""Jinja filters for French display of amounts, dates, statuses and flags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment

from core.estimates import line_quantity, line_rate
from core.french import (
    format_amount,
    format_date,
    format_datetime,
    format_duration,
    format_number,
    format_quantity,
    format_size,
    format_timestamp,
)
from core.missions import has_started
from core.models import MissionType
from core.ops.privacy import PURGED
from core.prechecks import FLAG_LABELS
from core.statuses import PartStatus

# What the DEC should check for each pre-check finding (shown beside the flag).
FLAG_HELP = {
    "service_fait_missing": "Rien n'est payable sans l'attestation du chef de centre : attestez-la ou attendez-la.",
    "service_fait_refused": "Le chef de centre dit la mission non faite : rejetez, ou corrigez l'attestation.",
    "receipts_missing": "Demandez les justificatifs à l'intervenant (bouton « Demander un complément »).",
    "receipts_total_matches": "Les totaux lus et déclarés concordent.",
    "receipts_total_differs": "Comparez chaque justificatif à son total lu ci-dessous avant de valider.",
    "receipt_unreadable": "Ouvrez le justificatif et vérifiez le montant à l'œil.",
    "receipt_pending": "La lecture automatique n'est pas terminée ; rechargez la page dans un instant.",
    "duplicate_receipt": "Le même justificatif figure dans un autre dossier : vérifiez qu'il n'est pas payé deux fois.",
    "trips_not_first_mission": "Les trajets doivent être portés sur la première mission du jour.",
    "quantity_above_convocation": "La quantité déclarée dépasse celle de la convocation : vérifiez auprès du centre.",
    "times_outside_mission": "Les horaires ne couvrent pas la mission : vérifiez les dates et heures.",
    "lodging_without_receipt": "Une nuit d'hôtel ne se rembourse que sur facture.",
    "receipts_total_typed": "Un justificatif n'a pas pu être lu : comparez-le au total saisi par l'intervenant.",
    "times_overlap_other_mission": "Deux missions de la même personne ne peuvent pas se chevaucher.",
    "quantity_impossible_for_time": "La quantité ne tient pas dans le temps de la mission : vérifiez-la.",
    "receipt_justifies_nothing": "Ce justificatif ne correspond à rien de déclaré : il n'est pas compté.",
    "receipt_kind_unknown": "Ouvrez le justificatif : sa nature n'est pas confirmée, il n'est pas compté.",
    "ticket_matches_no_trip": "Comparez la date et le parcours du billet aux trajets déclarés.",
    "trip_without_ticket": "Un trajet en transport en commun ou en taxi se rembourse sur billet ou reçu.",
    "receipt_outside_mission": "La date du justificatif est hors de la mission : vérifiez qu'il la concerne.",
    "meal_receipt_outside_windows": "Le ticket de repas ne tombe pas dans une plage de repas de la mission.",
    "meal_receipts_missing": "Pour cette période, chaque repas demande son justificatif.",
    "hotel_nights_mismatch": "Comparez les nuits des factures d'hôtel aux nuits déclarées.",
}
SEVERITY_LABELS = {"blocking": "bloquant", "warning": "à vérifier", "info": "information"}
ATTACHMENT_STATES = {
    "pending": "en cours d'examen",
    "accepted": "acceptée",
    "rejected": "refusée",
    "ignored": "ignorée (image décorative)",
    "held": "conservée, en attente d'un dossier",
}
MAIL_STATES = {
    "received": "reçu, à traiter",
    "processing": "en cours de traitement",
    "processed": "traité",
    "quarantined": "mis de côté",
    "failed": "traitement en échec",
}
SOURCES = {"bot": "depuis la messagerie", "console": "depuis la console", "csv": "par import CSV", "cli": "par script"}
RECEIPT_SOURCES = {"chat": "messagerie", "email": "e-mail", "console": "console"}


def amount(value: Any) -> str:
    return "—" if value is None else format_amount(Decimal(value))


def fr_date(value: date | datetime | None) -> str:
    return "—" if value is None else format_date(value)


def fr_datetime(value: datetime | None) -> str:
    """A local date and time (mission, trip, departure)."""
    return "—" if value is None else format_datetime(value)


def fr_timestamp(value: datetime | None) -> str:
    """A recorded timestamp (naive UTC), shown in local time."""
    return "—" if value is None else format_timestamp(value)


def status_label(value: str | None) -> str:
    try:
        return PartStatus(value).label
    except ValueError:
        return str(value)


def mission_type(value: str) -> str:
    try:
        return MissionType(value).label
    except ValueError:
        return str(value)


def duration(minutes: int | None) -> str:
    return "—" if minutes is None else format_duration(minutes)


def install(env: Environment) -> None:
    env.filters.update(
        amount=amount,
        fr_date=fr_date,
        fr_datetime=fr_datetime,
        fr_timestamp=fr_timestamp,
        status=status_label,
        duration=duration,
        quantity=format_quantity,
        line_quantity=line_quantity,
        line_rate=line_rate,
        size=format_size,
        number=format_number,
        attachment_state=lambda s: ATTACHMENT_STATES.get(s, s),
        mail_state=lambda s: MAIL_STATES.get(s, s),
        source=lambda s: SOURCES.get(s, s),
        receipt_source=lambda s: RECEIPT_SOURCES.get(s, s),
        part_name=lambda p: "rémunération" if str(getattr(p, "value", p)) == "pay" else "déplacement",
        mtype=mission_type,
        has_started=has_started,
        flag_label=lambda code: FLAG_LABELS.get(code, code),
        flag_help=lambda code: FLAG_HELP.get(code, ""),
        severity=lambda s: SEVERITY_LABELS.get(s, s),
    )
    env.globals["PURGED"] = PURGED
