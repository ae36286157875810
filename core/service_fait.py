"""Service fait: the chef de centre (or the DEC) attests that a mission was done."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit, outbox, prechecks
from core.errors import Forbidden, InvalidInput
from core.french import format_at, format_date
from core.missions import has_started
from core.models import EtatDeFrais, ServiceFait, StaffRole, StaffUser, utcnow


def can_attest(user: StaffUser, efm: EtatDeFrais) -> bool:
    """A gestionnaire may attest any mission; a chef de centre only those of their centre."""
    if not user.active:
        return False
    if user.role == StaffRole.GESTIONNAIRE:
        return True
    return user.role == StaffRole.CHEF_CENTRE and user.centre_id == efm.convocation.mission.centre_id


def attest(session: Session, efm: EtatDeFrais, done: bool, user: StaffUser, *, source: str) -> ServiceFait:
    """Record (or correct) the service fait attestation of one état de frais, once the mission has begun."""
    if not can_attest(user, efm):
        raise Forbidden("Vous ne pouvez attester que les missions de votre centre.")
    mission = efm.convocation.mission
    if not has_started(mission):
        raise InvalidInput(
            f"La mission n° {mission.number} commence le {format_at(mission.start_at)} : "
            "le service fait ne peut être attesté qu'à partir de ce moment."
        )
    actor = f"staff:{user.id}"
    sf = efm.service_fait
    before = None if sf is None else {"done": sf.done, "attested_by": sf.attested_by}
    if sf is None:
        sf = ServiceFait(efm_id=efm.id, done=done, attested_by=actor, source=source)
        session.add(sf)
        efm.service_fait = sf
    else:
        sf.done, sf.attested_by, sf.source, sf.attested_at = done, actor, source, utcnow()
    audit.record(session, actor, "etat_de_frais", efm.id, "service_fait", before, {"done": done, "source": source})
    prechecks.refresh_flags(session, efm)
    state = "effectuée" if done else "non effectuée"
    outbox.notify_intervenant(
        session,
        efm.convocation.intervenant,
        kind="service_fait",
        subject=f"Imag'in : service fait de la mission n° {mission.number}",
        text=(
            f"Le chef de centre a attesté la mission n° {mission.number} du {format_date(mission.start_at)} : {state}."
        ),
        dedupe_key=f"service_fait:{efm.id}:{done}",
        email=False,
    )
    return sf


def attest_many(session: Session, efms: list[EtatDeFrais], done: bool, user: StaffUser, *, source: str) -> int:
    """Attest several at once (e.g. everyone of a centre on a date); returns how many were recorded."""
    for efm in efms:
        attest(session, efm, done, user, source=source)
    return len(efms)
