"""The DEC side: the queue of submitted dossiers, what each staff member may see, and decisions.

Every function takes an ``Operator``: a gestionnaire sees and decides everything, a chef de centre
sees only the dossiers of their centre and may attest service fait there, never decide. Scripts
(``imagin dec``) act as the ``cli`` operator, with a gestionnaire's rights.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core import service_fait
from core.declarations import active_parts, apply_transition, part_status
from core.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from core.french import format_date
from core.models import (
    Centre,
    Convocation,
    Decision,
    EtatDeFrais,
    Exam,
    Flag,
    Intervenant,
    Mission,
    MissionType,
    StaffRole,
    StaffUser,
    utcnow,
)
from core.prechecks import FLAG_LABELS
from core.statuses import Part, PartStatus, next_status

PAGE_SIZE = 50
MAX_REASON = 2000
# The decisions a gestionnaire takes from the console or the CLI (payment goes through the export).
DECISIONS = ("validate", "reject", "request_info", "reopen", "cancel", "restore")
NEEDS_REASON = {"reject", "request_info", "cancel"}
DECISION_LABELS = {
    "validate": "validé",
    "reject": "rejeté",
    "request_info": "complément demandé",
    "reopen": "rouvert",
    "cancel": "annulé",
    "restore": "restauré",
    "send_to_payment": "transmis à la liquidation",
}


@dataclass(frozen=True)
class Operator:
    """Who acts on the DEC side: a staff account or the command line."""

    actor: str  # audit actor, e.g. "staff:3" or "cli"
    role: StaffRole
    centre_id: int | None = None
    user: StaffUser | None = None

    @classmethod
    def of(cls, user: StaffUser) -> Operator:
        if not user.active:
            raise Forbidden("Ce compte est désactivé.")
        return cls(f"staff:{user.id}", StaffRole(user.role), user.centre_id, user)

    @classmethod
    def cli(cls, name: str = "cli") -> Operator:
        return cls(name, StaffRole.GESTIONNAIRE)

    @property
    def is_gestionnaire(self) -> bool:
        return self.role is StaffRole.GESTIONNAIRE

    def require_gestionnaire(self) -> None:
        if not self.is_gestionnaire:
            raise Forbidden("Cette action est réservée aux gestionnaires de la DEC.")


@dataclass
class QueueFilter:
    """Filters of the queue; ``status`` None means "waiting for the DEC" (a part to validate)."""

    exam_id: int | None = None
    session: str | None = None
    centre_id: int | None = None
    mission_type: str | None = None
    status: str | None = None  # a PartStatus value, "all", or None (to validate)
    flag: str | None = None

    def __post_init__(self) -> None:
        if self.status not in (None, "", "all") and self.status not in {s.value for s in PartStatus}:
            raise InvalidInput(f"Statut inconnu : « {self.status} ». Exemple : {PartStatus.TO_VALIDATE.value}")
        if self.mission_type not in (None, "") and self.mission_type not in {t.value for t in MissionType}:
            raise InvalidInput(f"Type de mission inconnu : « {self.mission_type} ». Exemple : correction")
        if self.flag not in (None, "") and self.flag not in FLAG_LABELS:
            raise InvalidInput(f"Contrôle inconnu : « {self.flag} ». Exemple : service_fait_missing")


def visible_dossiers(op: Operator) -> Select[EtatDeFrais]:
    """Submitted dossiers the operator may see (a chef de centre: their centre only)."""
    q = (
        select(EtatDeFrais)
        .join(EtatDeFrais.convocation)
        .join(Convocation.mission)
        .where(EtatDeFrais.dossier_number.is_not(None))
    )
    if not op.is_gestionnaire:
        q = q.where(Mission.centre_id == (op.centre_id if op.centre_id is not None else -1))
    return q


def with_details(q: Select[EtatDeFrais]) -> Select[EtatDeFrais]:
    """Load what the queue and dossier pages show, in a few queries."""
    conv = joinedload(EtatDeFrais.convocation)
    return q.options(
        conv.joinedload(Convocation.mission).joinedload(Mission.exam),
        conv.joinedload(Convocation.mission).joinedload(Mission.centre),
        conv.joinedload(Convocation.intervenant),
        selectinload(EtatDeFrais.flags),
        joinedload(EtatDeFrais.service_fait),
    )


def _filtered(op: Operator, f: QueueFilter) -> Select[EtatDeFrais]:
    q = visible_dossiers(op)
    if f.exam_id:
        q = q.where(Mission.exam_id == f.exam_id)
    if f.session:
        q = q.join(Mission.exam).where(Exam.session == f.session)
    if f.centre_id:
        q = q.where(Mission.centre_id == f.centre_id)
    if f.mission_type:
        q = q.where(Mission.mission_type == f.mission_type)
    if f.status == "all":
        pass
    elif f.status:
        q = q.where(or_(EtatDeFrais.pay_status == f.status, EtatDeFrais.travel_status == f.status))
    else:
        todo = PartStatus.TO_VALIDATE.value
        q = q.where(or_(EtatDeFrais.pay_status == todo, EtatDeFrais.travel_status == todo))
    if f.flag:
        q = q.where(EtatDeFrais.id.in_(select(Flag.efm_id).where(Flag.code == f.flag)))
    return q


def queue(
    session: Session, op: Operator, f: QueueFilter | None = None, *, page: int = 1, page_size: int = PAGE_SIZE
) -> tuple[list[EtatDeFrais], int]:
    """One page of the queue, oldest submission first, and the number of dossiers matching."""
    q = _filtered(op, f or QueueFilter())
    total = session.scalar(select(func.count()).select_from(q.with_only_columns(EtatDeFrais.id).subquery())) or 0
    rows = session.scalars(
        with_details(q)
        .order_by(EtatDeFrais.submitted_at, EtatDeFrais.id)
        .offset(max(page - 1, 0) * page_size)
        .limit(page_size)
    ).unique()
    return list(rows), total


def get_dossier(session: Session, op: Operator, efm_id: int, *, lock: bool = False) -> EtatDeFrais:
    """A submitted dossier the operator may see (else NotFound, so nothing leaks across centres).

    ``lock``: hold the row until the transaction ends (PostgreSQL), so two decisions never interleave.
    """
    q = with_details(visible_dossiers(op).where(EtatDeFrais.id == efm_id))
    if lock:
        q = q.with_for_update(of=EtatDeFrais)
    efm = session.scalars(q).unique().one_or_none()
    if efm is None:
        raise NotFound("Dossier introuvable.")
    return efm


def find_dossier(session: Session, op: Operator, ref: str) -> EtatDeFrais:
    """A dossier by number ("2026-000012") or internal id ("12")."""
    ref = ref.strip()
    efm_id = session.scalar(
        visible_dossiers(op).with_only_columns(EtatDeFrais.id).where(EtatDeFrais.dossier_number == ref)
    )
    if efm_id is None and ref.isdigit():
        efm_id = int(ref)
    if efm_id is None:
        raise NotFound(f"Dossier « {ref} » introuvable. Exemple : 2026-000012")
    return get_dossier(session, op, efm_id)


def filter_choices(session: Session, op: Operator) -> dict[str, Any]:
    """Values offered by the queue's filters (only what the operator can see)."""
    visible = visible_dossiers(op)
    exams = list(
        session.scalars(
            select(Exam)
            .where(Exam.id.in_(visible.with_only_columns(Mission.exam_id)))
            .order_by(Exam.session, Exam.name)
        )
    )
    centres = list(
        session.scalars(
            select(Centre).where(Centre.id.in_(visible.with_only_columns(Mission.centre_id))).order_by(Centre.name)
        )
    )
    return {
        "exams": exams,
        "sessions": sorted({e.session for e in exams}),
        "centres": centres,
        "mission_types": list(MissionType),
        "statuses": list(PartStatus),
        "flags": FLAG_LABELS,
    }


# ---------------------------------------------------------------------------------------------- decisions


def _check_reason(action: str, reason: str) -> str:
    reason = " ".join(reason.split())
    if action in NEEDS_REASON and not reason:
        what = {
            "reject": "le motif du rejet",
            "request_info": "ce qui est demandé à l'intervenant",
            "cancel": "le motif de l'annulation",
        }[action]
        raise InvalidInput(f"Indiquez {what}. Exemple : « Merci d'envoyer la facture d'hôtel du 12/06. »")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Texte trop long ({len(reason)} caractères, {MAX_REASON} au plus).")
    return reason


def require_service_fait(efm: EtatDeFrais) -> None:
    """Nothing is payable without the chef de centre's attestation that the mission was done."""
    sf = efm.service_fait
    if sf is None:
        raise IllegalTransition(
            "Validation impossible : le service fait n'est pas encore attesté par le chef "
            "de centre. Attestez-le d'abord (page du dossier ou import de la liste du centre)."
        )
    if not sf.done:
        raise IllegalTransition(
            "Validation impossible : le chef de centre atteste que la mission n'a pas été "
            "effectuée. Rejetez le dossier ou corrigez l'attestation."
        )


def _parts(efm: EtatDeFrais, parts: list[Part] | None) -> list[Part]:
    active = active_parts(efm)
    if parts is None:
        return active
    for p in parts:
        if p not in active:
            raise InvalidInput(f"Ce dossier n'a pas de {p.label}.")
    if not parts:
        raise InvalidInput("Choisissez la partie concernée : rémunération, déplacement ou les deux.")
    return list(dict.fromkeys(parts))


DECISION_NEWS = {
    "validate": "vos {which} sont validés par la DEC.",
    "reject": "vos {which} ne sont pas validés par la DEC. Motif : {reason}",
    "request_info": "la DEC vous demande un complément pour vos {which} : {reason}",
    "reopen": "la DEC a rouvert l'examen de vos {which}.",
    "cancel": "vos {which} sont annulés par la DEC (mission non due). Motif : {reason}",
    "restore": "vos {which} sont rétablis par la DEC.",
}
DECISION_NEXT = {
    "validate": "Les sommes validées seront transmises au service de liquidation pour paiement : "
    "vous n'avez rien d'autre à faire.",
    "reject": "Si vous n'êtes pas d'accord, écrivez à la DEC en rappelant le numéro de dossier.",
    "request_info": "Complétez votre état de frais dans la discussion puis validez-le à nouveau : "
    "il reviendra à la DEC.",
    "reopen": "La DEC réexamine ces frais ; vous serez prévenu de sa décision.",
    "cancel": "Ces frais ne seront pas payés. Si c'est une erreur, écrivez à la DEC en rappelant le numéro de dossier.",
    "restore": "La DEC examine de nouveau ces frais ; vous serez prévenu de sa décision.",
}


def _notify(session: Session, efm: EtatDeFrais, action: str, parts: list[Part], reason: str) -> None:
    mission = efm.convocation.mission
    which = " et ".join(p.label for p in parts)
    news = DECISION_NEWS[action].format(which=which, reason=reason)
    head = f"Dossier n° {efm.dossier_number} (mission n° {mission.number} du {format_date(mission.start_at)})"
    stamp = utcnow().isoformat()
    key = f"dec:{efm.id}:{action}:{'+'.join(parts)}:{stamp}"
    service_fait.tell_intervenant(
        session,
        efm,
        kind=f"dec_{action}",
        subject=f"Imag'in : dossier n° {efm.dossier_number}, mission n° {mission.number}",
        what=f"{head} : {news}",
        mail_what=f"Concernant votre dossier n° {efm.dossier_number} : {news}",
        next_step=DECISION_NEXT[action],
        key=key,
    )


def decide(
    session: Session, op: Operator, efm_id: int, action: str, parts: list[Part] | None = None, reason: str = ""
) -> list[PartStatus]:
    """Apply a DEC decision to one or both parts; audit, ``Decision`` rows and a notification.

    ``validate`` needs service fait attested as done; ``reject``, ``request_info`` and ``cancel``
    need a reason; ``request_info`` reopens the whole dossier to the intervenant, so every active
    part must still be waiting for the DEC.
    """
    op.require_gestionnaire()
    if action not in DECISIONS:
        raise InvalidInput(f"Décision inconnue : « {action} ». Exemple : validate")
    efm = get_dossier(session, op, efm_id, lock=True)
    reason = _check_reason(action, reason)
    chosen = _parts(efm, parts)
    if action == "validate":
        require_service_fait(efm)
    if action == "request_info":
        chosen = active_parts(efm)
        busy = [p for p in chosen if part_status(efm, p) is not PartStatus.TO_VALIDATE]
        if busy:
            raise IllegalTransition(
                "Complément impossible : "
                + " ; ".join(f"les {p.label} sont au statut « {part_status(efm, p).label} »" for p in busy)
                + ". Rouvrez-les d'abord pour que l'intervenant puisse compléter tout le dossier."
            )
    for part in chosen:  # all or nothing: check every part before changing any
        before_cancel = getattr(efm, f"{'pay' if part is Part.PAY else 'travel'}_status_before_cancel")
        next_status(part_status(efm, part), action, PartStatus(before_cancel) if before_cancel else None)
    results = []
    for part in chosen:
        results.append(apply_transition(session, efm, part, action, op.actor, reason))
        session.add(Decision(efm_id=efm.id, part=part.value, action=action, reason=reason, actor=op.actor))
    _notify(session, efm, action, chosen, reason)
    session.flush()
    return results


def decisions_of(session: Session, efm_id: int) -> list[Decision]:
    return list(session.scalars(select(Decision).where(Decision.efm_id == efm_id).order_by(Decision.id)))


def attest(session: Session, op: Operator, efm_id: int, done: bool, *, source: str = "console") -> None:
    """Service fait from the console: a gestionnaire for any centre, a chef de centre for theirs."""
    efm = _visible_for_attestation(session, op, efm_id)
    if op.user is None:
        raise Forbidden("L'attestation du service fait demande un compte nominatif (gestionnaire ou chef de centre).")
    service_fait.attest(session, efm, done, op.user, source=source)


def _visible_for_attestation(session: Session, op: Operator, efm_id: int) -> EtatDeFrais:
    q = with_details(
        select(EtatDeFrais).join(EtatDeFrais.convocation).join(Convocation.mission).where(EtatDeFrais.id == efm_id)
    )
    if not op.is_gestionnaire:
        q = q.where(Mission.centre_id == (op.centre_id if op.centre_id is not None else -1))
    efm = session.scalars(q).unique().one_or_none()
    if efm is None:
        raise NotFound("Mission introuvable.")
    return efm


def attestation_list(
    session: Session, op: Operator, centre_id: int | None, day: date | None = None
) -> list[EtatDeFrais]:
    """Missions of a centre (submitted or not) for the service fait page; a chef de centre sees theirs."""
    if not op.is_gestionnaire:
        centre_id = op.centre_id if op.centre_id is not None else -1
    if centre_id is None:
        return []
    q = with_details(
        select(EtatDeFrais)
        .join(EtatDeFrais.convocation)
        .join(Convocation.mission)
        .join(Convocation.intervenant)
        .where(Mission.centre_id == centre_id)
    )
    if day is not None:
        q = q.where(Mission.start_at >= day, Mission.start_at < day + timedelta(days=1))
    return list(session.scalars(q.order_by(Mission.start_at, Intervenant.last_name, EtatDeFrais.id)).unique())


# ---------------------------------------------------------------------------------------------- dashboard


@dataclass
class Dashboard:
    by_status: dict[str, dict[str, int]] = field(default_factory=dict)  # status -> {"pay": n, "travel": n}
    by_flag: dict[str, int] = field(default_factory=dict)  # flag code -> dossiers waiting with it
    per_day: list[tuple[date, int]] = field(default_factory=list)  # submissions per day
    waiting: int = 0


def dashboard(session: Session, op: Operator, days: int = 30, today: date | None = None) -> Dashboard:
    """Counts of the queue by status and flag, and dossiers arriving per day over ``days`` days."""
    base = visible_dossiers(op).subquery()
    out = Dashboard()
    for part, col in (("pay", base.c.pay_status), ("travel", base.c.travel_status)):
        for status, n in session.execute(select(col, func.count()).group_by(col)):
            if status != PartStatus.NO_COSTS.value:
                out.by_status.setdefault(status, {"pay": 0, "travel": 0})[part] = n
    todo = PartStatus.TO_VALIDATE.value
    waiting_ids = select(base.c.id).where(or_(base.c.pay_status == todo, base.c.travel_status == todo))
    out.waiting = session.scalar(select(func.count()).select_from(waiting_ids.subquery())) or 0
    flag_rows = session.execute(
        select(Flag.code, func.count(func.distinct(Flag.efm_id)))
        .where(Flag.efm_id.in_(waiting_ids))
        .group_by(Flag.code)
    )
    out.by_flag = dict(sorted(((c, n) for c, n in flag_rows), key=lambda cn: -cn[1]))
    today = today or utcnow().date()
    first = today - timedelta(days=days - 1)
    stamps = session.scalars(
        select(base.c.submitted_at).where(and_(base.c.submitted_at.is_not(None), base.c.submitted_at >= first))
    )
    counts = Counter(s.date() for s in stamps)
    out.per_day = [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]
    return out
