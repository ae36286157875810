"""Statuses of the two parts of an état de frais and the one place where they change."""

from __future__ import annotations

from enum import StrEnum

from core.errors import IllegalTransition


class PartStatus(StrEnum):
    """Status of one part (rémunération or déplacement); values are the Imag'in labels' keys."""

    NO_COSTS = "pas_de_frais"
    NOT_YET_DONE = "non_encore_effectuee"
    DONE = "effectuee"
    NOT_DONE = "non_effectuee"
    TO_VALIDATE = "a_valider"
    INFO_REQUESTED = "complement_demande"
    REJECTED = "non_valide"
    VALIDATED = "valide"
    SENT_TO_PAYMENT = "transmis_liquidation"
    CANCELLED = "annule"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[PartStatus, str] = {
    PartStatus.NO_COSTS: "Pas de frais",
    PartStatus.NOT_YET_DONE: "Mission non encore effectuée",
    PartStatus.DONE: "Mission effectuée",
    PartStatus.NOT_DONE: "Mission non effectuée",
    PartStatus.TO_VALIDATE: "À valider",
    PartStatus.INFO_REQUESTED: "Complément demandé",
    PartStatus.REJECTED: "Non validé",
    PartStatus.VALIDATED: "Validé",
    PartStatus.SENT_TO_PAYMENT: "Transmis à la liquidation",
    PartStatus.CANCELLED: "Annulé",
}


class Part(StrEnum):
    PAY = "pay"
    TRAVEL = "travel"

    @property
    def label(self) -> str:
        return "frais de rémunération" if self is Part.PAY else "frais de déplacement"


S = PartStatus
# Every legal move, with the action that causes it. CANCELLED -> (previous status) is "restore".
TRANSITIONS: dict[tuple[PartStatus, str], PartStatus] = {
    (S.NOT_YET_DONE, "declare_done"): S.DONE,
    (S.NOT_YET_DONE, "declare_not_done"): S.NOT_DONE,
    (S.DONE, "declare_not_done"): S.NOT_DONE,
    (S.NOT_DONE, "declare_done"): S.DONE,
    (S.INFO_REQUESTED, "declare_not_done"): S.NOT_DONE,
    (S.DONE, "submit"): S.TO_VALIDATE,
    (S.NOT_DONE, "submit"): S.TO_VALIDATE,
    (S.INFO_REQUESTED, "submit"): S.TO_VALIDATE,
    (S.TO_VALIDATE, "validate"): S.VALIDATED,
    (S.TO_VALIDATE, "reject"): S.REJECTED,
    (S.TO_VALIDATE, "request_info"): S.INFO_REQUESTED,
    (S.VALIDATED, "send_to_payment"): S.SENT_TO_PAYMENT,
    (S.VALIDATED, "reopen"): S.TO_VALIDATE,
    (S.REJECTED, "reopen"): S.TO_VALIDATE,
}
CANCELLABLE = frozenset(set(PartStatus) - {S.NO_COSTS, S.CANCELLED, S.SENT_TO_PAYMENT})
EDITABLE = frozenset({S.NOT_YET_DONE, S.DONE, S.NOT_DONE, S.INFO_REQUESTED})
ACTIONS = frozenset({a for _, a in TRANSITIONS} | {"cancel", "restore"})

ACTION_LABELS = {
    "declare_done": "déclarer la mission effectuée",
    "declare_not_done": "déclarer la mission non effectuée",
    "submit": "valider l'état de frais",
    "validate": "valider le dossier",
    "reject": "rejeter le dossier",
    "request_info": "demander un complément",
    "send_to_payment": "transmettre à la liquidation",
    "reopen": "rouvrir le dossier",
    "cancel": "annuler",
    "restore": "restaurer",
}


def next_status(current: PartStatus, action: str, previous: PartStatus | None = None) -> PartStatus:
    """The status after ``action`` from ``current``; raises IllegalTransition (French) otherwise.

    ``previous`` is the status a cancelled part had before cancellation (for ``restore``).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action == "cancel" and current in CANCELLABLE:
        return S.CANCELLED
    if action == "restore" and current is S.CANCELLED and previous is not None:
        return previous
    target = TRANSITIONS.get((current, action))
    if target is None:
        raise IllegalTransition(
            f"Impossible de {ACTION_LABELS[action]} : le dossier est au statut « {current.label} »."
        )
    return target
