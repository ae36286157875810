"""Service fait: the chef de centre (or the DEC) attests that a mission was done, or was not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit, outbox, prechecks
from core.errors import Forbidden, InvalidInput
from core.french import format_at, format_date
from core.mail.replies import staff_notice_text
from core.missions import has_started
from core.models import EtatDeFrais, Mission, MissionType, OutboxMessage, ServiceFait, StaffRole, StaffUser, utcnow
from core.settings import get_settings

UNDO_SECONDS = 120  # an attestation may be taken back by its author this long after it was given


def can_attest(user: StaffUser, efm: EtatDeFrais) -> bool:
    """A gestionnaire may attest any mission; a chef de centre only those of their centre."""
    if not user.active:
        return False
    if user.role == StaffRole.GESTIONNAIRE:
        return True
    return user.role == StaffRole.CHEF_CENTRE and user.centre_id == efm.convocation.mission.centre_id


def awaits_attestation(efm: EtatDeFrais) -> bool:
    """The mission has begun and nobody has attested it yet: the chef de centre's work list."""
    return efm.service_fait is None and has_started(efm.convocation.mission)


def mission_label(mission: Mission) -> str:
    """« n° BAC-2026-001 du 02/12/2026 (Correction de copies, Lycée X (C01)) », for a message."""
    kind = MissionType(mission.mission_type).label
    return f"n° {mission.number} du {format_date(mission.start_at)} ({kind}, {mission.centre.label})"


def _next_step(efm: EtatDeFrais, done: bool) -> str:
    if not done:
        return (
            "Aucune indemnité n'est versée pour une mission non effectuée. Si c'est une erreur, "
            "prévenez le chef de centre ou la DEC en rappelant le numéro de mission."
        )
    if efm.dossier_number:
        return "La DEC peut maintenant examiner votre état de frais ; vous serez prévenu de sa décision."
    return "Déclarez vos frais dans la discussion avec l'assistant (commande /missions) pour qu'ils soient payés."


def tell_intervenant(
    session: Session,
    efm: EtatDeFrais,
    *,
    kind: str,
    subject: str,
    what: str,
    next_step: str,
    key: str,
    mail_what: str | None = None,
) -> None:
    """What staff did, told to the intervenant: in the chat (``what``, then what next) and by e-mail (greeting,
    ``mail_what`` or ``what``, the mission, the dossier, what next)."""
    mission, person = efm.convocation.mission, efm.convocation.intervenant
    outbox.notify_intervenant(
        session, person, kind=kind, subject=subject, text=f"{what}\n{next_step}", dedupe_key=key, email=False
    )
    if person.emails:
        settings = get_settings()
        outbox.enqueue(
            session,
            channel="email",
            recipient=person.emails[0].address,
            kind=kind,
            subject=subject,
            text=staff_notice_text(
                name=person.display_name,
                what=mail_what or what,
                mission_label=mission_label(mission),
                dossier=efm.dossier_number,
                next_step=next_step,
                chat_link=settings.chat_link,
                service=f"{settings.academie_service}, {settings.academie_name}",
            ),
            dedupe_key=f"{key}:mail",
        )


def _tell(session: Session, efm: EtatDeFrais, what: str, next_step: str, key: str) -> None:
    subject = f"Imag'in : service fait de la mission n° {efm.convocation.mission.number}"
    tell_intervenant(session, efm, kind="service_fait", subject=subject, what=what, next_step=next_step, key=key)


def _notify(session: Session, efm: EtatDeFrais, done: bool) -> None:
    mission = efm.convocation.mission
    state = "effectuée" if done else "non effectuée"
    what = f"Le chef de centre a attesté la mission n° {mission.number} du {format_date(mission.start_at)} : {state}."
    _tell(session, efm, what, _next_step(efm, done), f"service_fait:{efm.id}:{done}:{utcnow().isoformat()}")


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
        sf = ServiceFait(efm_id=efm.id, done=done, attested_by=actor, source=source, attested_at=utcnow())
        session.add(sf)
        efm.service_fait = sf
    else:
        sf.done, sf.attested_by, sf.source, sf.attested_at = done, actor, source, utcnow()
    audit.record(session, actor, "etat_de_frais", efm.id, "service_fait", before, {"done": done, "source": source})
    prechecks.refresh_flags(session, efm)
    _notify(session, efm, done)
    return sf


def attest_many(session: Session, efms: list[EtatDeFrais], done: bool, user: StaffUser, *, source: str) -> int:
    """Attest several at once (e.g. everyone of a centre on a date); returns how many were recorded."""
    for efm in efms:
        attest(session, efm, done, user, source=source)
    return len(efms)


def undo(session: Session, efm: EtatDeFrais, user: StaffUser, previous: bool | None) -> None:
    """Take back one's own attestation within ``UNDO_SECONDS``: back to ``previous`` (None: not attested).

    Notifications not yet delivered are withdrawn; those already sent are followed by a correction.
    """
    sf = efm.service_fait
    actor = f"staff:{user.id}"
    if sf is None or sf.attested_by != actor or not can_attest(user, efm):
        raise InvalidInput("Il n'y a rien à annuler : cette attestation n'est pas la vôtre ou n'existe plus.")
    if utcnow() - sf.attested_at > timedelta(seconds=UNDO_SECONDS):
        raise InvalidInput(
            f"Le délai d'annulation ({UNDO_SECONDS // 60} minutes) est dépassé : "
            "attestez de nouveau la mission avec la bonne réponse."
        )
    before = {"done": sf.done, "attested_by": sf.attested_by}
    prefix = f"service_fait:{efm.id}:"
    sent = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key.like(f"{prefix}%"), OutboxMessage.status != "pending")
    )
    session.execute(
        delete(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"{prefix}%"), OutboxMessage.status == "pending")
    )
    if previous is None:
        session.delete(sf)
        efm.service_fait = None
    else:
        sf.done = previous
    session.flush()
    audit.record(session, actor, "etat_de_frais", efm.id, "service_fait_undo", before, {"done": previous})
    prechecks.refresh_flags(session, efm)
    if sent is not None:
        mission = efm.convocation.mission
        what = (
            f"Correction : l'attestation de la mission n° {mission.number} du {format_date(mission.start_at)} "
            "envoyée à l'instant a été annulée par le chef de centre : ne tenez pas compte du message précédent."
        )
        _tell(
            session,
            efm,
            what,
            "Vous serez prévenu de la nouvelle attestation."
            if previous is None
            else f"L'attestation précédente s'applique : mission {'effectuée' if previous else 'non effectuée'}.",
            f"service_fait_undo:{efm.id}:{utcnow().isoformat()}",
        )
