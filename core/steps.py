"""The steps of a declaration: which apply to a dossier, in order, each with its state and why.

The one place that knows the shape of a declaration: the chat walks these steps, the recap lists them,
``core.declarations.submit`` refuses while a required one is missing, the e-mail replies say what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import object_session

from core.declarations import READ_ONLY, part_status, quantity_field
from core.errors import InvalidInput
from core.models import EtatDeFrais, Receipt
from core.statuses import EDITABLE, Part, PartStatus


class StepState(StrEnum):
    ANSWERED = "answered"
    MISSING = "missing"
    BLOCKED = "blocked"


class StepName(StrEnum):
    DONE = "done"
    QUANTITY = "quantity"
    TIMES = "times"
    TRIPS = "trips"
    STAY = "stay"
    TOTAL = "total"
    RECEIPTS = "receipts"
    RECAP = "recap"


@dataclass(frozen=True)
class Step:
    """One step of the declaration: ``reason`` says why it is missing or blocked (French, empty when answered)."""

    name: StepName
    title: str
    state: StepState
    reason: str = ""
    required: bool = False  # validation is refused while a required step is missing


@dataclass(frozen=True)
class Quantity:
    """The wording of the one quantity a mission type asks for."""

    label: str  # the question's subject, "Nombre de copies corrigées"
    missing: str  # in a list of what is left, "le nombre de copies corrigées"
    example: str  # an answer as typed
    units: tuple[str, ...] = ()  # words that may follow the number ("95 copies")


QUANTITIES = {
    "copies": Quantity("Nombre de copies corrigées", "le nombre de copies corrigées", "25", ("copie", "copies")),
    "candidates": Quantity(
        "Nombre de candidats interrogés",
        "le nombre de candidats interrogés",
        "12",
        ("candidat", "candidats", "candidate", "candidates", "élève", "élèves"),
    ),
    "practical_minutes": Quantity(
        "Durée des épreuves pratiques (en heures)", "la durée des épreuves pratiques", "3h30"
    ),
}

TITLES = {
    StepName.DONE: "Mission effectuée",
    StepName.QUANTITY: "Quantité",
    StepName.TIMES: "Horaires de départ et de retour",
    StepName.TRIPS: "Trajets",
    StepName.STAY: "Hébergement et repas",
    StepName.TOTAL: "Montant des justificatifs",
    StepName.RECEIPTS: "Justificatifs",
    StepName.RECAP: "Récapitulatif et validation",
}
DONE_FIRST = "Indiquez d'abord si la mission a été effectuée."


def _editable(efm: EtatDeFrais) -> bool:
    statuses = [part_status(efm, p) for p in Part if part_status(efm, p) is not PartStatus.NO_COSTS]
    return not statuses or all(s in EDITABLE for s in statuses)


# built once, on the table (a Core statement: half the cost of the ORM path; pending receipts still autoflushed)
_RECEIPTS = cast(Table, Receipt.__table__)
_RECEIPT_COUNT = select(func.count(_RECEIPTS.c.id)).where(_RECEIPTS.c.efm_id == bindparam("efm_id"))


def _receipt_count(efm: EtatDeFrais) -> int:
    session = object_session(efm)
    if session is None:
        return 0
    return session.scalar(_RECEIPT_COUNT, {"efm_id": efm.id}) or 0


def _answers(efm: EtatDeFrais) -> list[tuple[StepName, bool, str, bool]]:
    """The steps that apply, each with (answered, what is missing, required)."""
    done = efm.service_done
    steps = [(StepName.DONE, done is not None, "indiquer si la mission a été effectuée", True)]
    if done is False:
        return steps
    field = quantity_field(efm)
    if field and part_status(efm, Part.PAY) is not PartStatus.NO_COSTS:
        steps.append((StepName.QUANTITY, getattr(efm, field) is not None, QUANTITIES[field].missing, True))
    if part_status(efm, Part.TRAVEL) is not PartStatus.NO_COSTS:
        by_car = any(t.mode == "voiture" for t in efm.trips)
        trips_missing = "aucun trajet déclaré" if not efm.trips else "la puissance fiscale du véhicule personnel"
        steps += [
            (
                StepName.TIMES,
                efm.departure_at is not None and efm.return_at is not None,
                "les horaires de départ et de retour",
                True,
            ),
            (StepName.TRIPS, bool(efm.trips) and (not by_car or efm.car_fiscal_hp is not None), trips_missing, False),
            (StepName.STAY, efm.meals is not None, "les nuits d'hôtel et les repas", False),
            (StepName.TOTAL, efm.receipts_total is not None, "le montant total des justificatifs", False),
        ]
        received = _receipt_count(efm)
        if efm.receipts_total != 0 or received or efm.receipts_by_email:  # none to send once 0,00 € is declared
            steps.append(
                (
                    StepName.RECEIPTS,
                    efm.receipts_by_email or received > 0,
                    "aucun justificatif reçu ni annoncé par e-mail",
                    False,
                )
            )
    return steps


def steps_for(efm: EtatDeFrais) -> list[Step]:
    """The steps that apply to this dossier, in the order they are asked, the recap and validation last.

    A mission not done asks nothing more; the quantity only when the mission type has one and the
    rémunération applies; times, trips, stay, receipts total and receipts only when the déplacement applies (the
    receipts not once « 0,00 € » is the total and none was sent).
    Once validated (waiting for the DEC or decided), every step is blocked and the recap answered.
    """
    editable = _editable(efm)
    steps: list[Step] = []
    for name, answered, missing, required in _answers(efm):
        if not editable:
            state, reason = StepState.BLOCKED, READ_ONLY
        elif name is not StepName.DONE and efm.service_done is None:
            state, reason = StepState.BLOCKED, DONE_FIRST
        elif answered:
            state, reason = StepState.ANSWERED, ""
        else:
            state, reason = StepState.MISSING, missing
        steps.append(Step(name, TITLES[name], state, reason, required))
    left = [s.reason for s in steps if s.required and s.state is StepState.MISSING]
    if not editable:
        recap = Step(StepName.RECAP, TITLES[StepName.RECAP], StepState.ANSWERED, "", True)
    elif left:
        reason = "Avant de valider, il reste à renseigner : " + " ; ".join(left) + "."
        recap = Step(StepName.RECAP, TITLES[StepName.RECAP], StepState.BLOCKED, reason, True)
    else:
        recap = Step(StepName.RECAP, TITLES[StepName.RECAP], StepState.MISSING, "la déclaration à valider", True)
    return [*steps, recap]


def missing_answers(efm: EtatDeFrais) -> list[str]:
    """What must still be answered before the état de frais can be validated (French)."""
    return [s.reason for s in steps_for(efm)[:-1] if s.required and s.state is StepState.MISSING]


def require_complete(efm: EtatDeFrais) -> None:
    """Refuse validation while a required answer is missing (the list in French)."""
    recap = steps_for(efm)[-1]
    if recap.state is StepState.BLOCKED:
        raise InvalidInput(recap.reason)
