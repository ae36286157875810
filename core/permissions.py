"""Who may do what next on a dossier: the DEC's gestionnaire, the chef de centre, the intervenant.

Derived from the statuses' transition table (``core.statuses.next_status``), the service fait rule
(``core.service_fait.can_attest``) and the steps of the declaration (``core.steps``); the console and the
chat show the actions this returns and nothing else.
"""

from __future__ import annotations

from core.declarations import active_parts, part_status
from core.errors import IllegalTransition
from core.missions import has_started
from core.models import EtatDeFrais, Intervenant, StaffRole, StaffUser
from core.service_fait import can_attest
from core.statuses import Part, PartStatus, next_status
from core.steps import StepState, steps_for

PART_DECISIONS = ("validate", "reject", "reopen", "cancel", "restore")  # the DEC's decisions on one part
ATTEST = "attest"  # service fait: effectuée or non effectuée
REQUEST_INFO = "request_info"  # the whole dossier back to the intervenant
# The intervenant's actions on their own dossier.
DECLARE = "declare"  # answer or change the steps of the declaration
DECLARE_DONE, DECLARE_NOT_DONE, SUBMIT = "declare_done", "declare_not_done", "submit"
RECAP_PDF = "recap_pdf"


def _legal(efm: EtatDeFrais, part: Part, action: str) -> bool:
    attr = "pay_status_before_cancel" if part is Part.PAY else "travel_status_before_cancel"
    before = getattr(efm, attr)
    try:
        next_status(part_status(efm, part), action, PartStatus(before) if before else None)
    except IllegalTransition:
        return False
    return True


def _staff_actions(efm: EtatDeFrais, user: StaffUser, part: Part | None) -> list[str]:
    if not user.active:
        return []
    gestionnaire = user.role == StaffRole.GESTIONNAIRE
    if part is not None:
        if not gestionnaire or part_status(efm, part) is PartStatus.NO_COSTS:
            return []
        return [a for a in PART_DECISIONS if _legal(efm, part, a)]
    actions = []
    if can_attest(user, efm) and has_started(efm.convocation.mission):
        actions.append(ATTEST)
    parts = active_parts(efm)
    if gestionnaire and parts and all(part_status(efm, p) is PartStatus.TO_VALIDATE for p in parts):
        actions.append(REQUEST_INFO)
    return actions


def _intervenant_actions(efm: EtatDeFrais, person: Intervenant) -> list[str]:
    if efm.convocation.intervenant_id != person.id:
        return []
    actions = [RECAP_PDF] if efm.dossier_number else []
    steps = steps_for(efm)
    if steps[-1].state is StepState.ANSWERED:  # validated: read-only
        return actions
    actions.append(DECLARE)
    if has_started(efm.convocation.mission):
        actions.append(DECLARE_DONE)
    actions.append(DECLARE_NOT_DONE)
    if steps[-1].state is StepState.MISSING:
        actions.append(SUBMIT)
    return actions


def allowed_actions(efm: EtatDeFrais, who: StaffUser | Intervenant, part: Part | None = None) -> list[str]:
    """The actions `who` may take now on this dossier (on one part when `part` is given).

    A gestionnaire: on a part, the decisions its status allows (validate, reject, reopen, cancel, restore);
    on the dossier, ``attest`` once the mission has begun and ``request_info`` when every part waits for the
    DEC. A chef de centre: ``attest`` for the missions of their centre once begun, nothing on the parts. The
    intervenant, on their own dossier only: ``declare``, ``declare_done`` (once begun), ``declare_not_done``
    and ``submit`` (when nothing required is missing) until validated; ``recap_pdf`` once it has a number.
    """
    if isinstance(who, StaffUser):
        return _staff_actions(efm, who, part)
    return [] if part is not None else _intervenant_actions(efm, who)
