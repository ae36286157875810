"""The gestionnaire's worklist: the previous and next dossier in the queue's order, and the bulk
validation of dossiers with nothing to check."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from core.dec.queue import Operator, QueueFilter, _filtered, decide, get_dossier
from core.declarations import active_parts, part_status
from core.errors import DomainError
from core.models import EtatDeFrais
from core.statuses import PartStatus

MAX_BULK = 200  # dossiers validated in one go (a day's work)


def needs_checking(efm: EtatDeFrais) -> bool:
    """A dossier has a point to check when any of its flags is more than an information."""
    return any(f.severity != "info" for f in efm.flags)


def bulk_validable(efm: EtatDeFrais) -> bool:
    """Validable in bulk: nothing to check, service fait attested done, every active part waiting for the DEC."""
    parts = active_parts(efm)
    return (
        bool(parts)
        and not needs_checking(efm)
        and efm.service_fait is not None
        and efm.service_fait.done
        and all(part_status(efm, p) is PartStatus.TO_VALIDATE for p in parts)
    )


@dataclass(frozen=True)
class Neighbours:
    previous: int | None
    next: int | None
    position: int | None  # 1-based place of the dossier in the filtered queue (None: no longer in it)
    total: int


def neighbours(session: Session, op: Operator, f: QueueFilter, efm_id: int) -> Neighbours:
    """The dossiers before and after ``efm_id`` in the queue's order (oldest submission first), within
    the filter; a dossier that left the filter (just validated) still has the ones around its place."""
    current = get_dossier(session, op, efm_id)
    at, key = EtatDeFrais.submitted_at, (current.submitted_at, current.id)
    base = _filtered(op, f).where(at.is_not(None))
    before = or_(at < key[0], and_(at == key[0], EtatDeFrais.id < key[1]))
    after = or_(at > key[0], and_(at == key[0], EtatDeFrais.id > key[1]))
    ids = base.with_only_columns(EtatDeFrais.id).limit(1)
    previous = session.scalar(ids.where(before).order_by(at.desc(), EtatDeFrais.id.desc()))
    following = session.scalar(ids.where(after).order_by(at, EtatDeFrais.id))
    total = _count(session, base)
    position = (
        1 + _count(session, base.where(before)) if _count(session, base.where(EtatDeFrais.id == efm_id)) else None
    )
    return Neighbours(previous, following, position, total)


def _count(session: Session, q: Select[EtatDeFrais]) -> int:
    return session.scalar(select(func.count()).select_from(q.with_only_columns(EtatDeFrais.id).subquery())) or 0


@dataclass
class BulkReport:
    validated: list[str] = field(default_factory=list)  # dossier numbers
    refused: list[tuple[str, str]] = field(default_factory=list)  # (dossier number or id, French reason)


def validate_unflagged(session: Session, op: Operator, efm_ids: list[int]) -> BulkReport:
    """Validate every active part of each dossier that has nothing to check; the others are refused with why."""
    op.require_gestionnaire()
    report = BulkReport()
    for efm_id in list(dict.fromkeys(efm_ids))[:MAX_BULK]:
        try:
            efm = get_dossier(session, op, efm_id)
            if not bulk_validable(efm):
                report.refused.append((efm.dossier_number or str(efm_id), "un point est à vérifier sur sa page"))
                continue
            with session.begin_nested():
                decide(session, op, efm.id, "validate")
            report.validated.append(efm.dossier_number or str(efm_id))
        except DomainError as exc:
            report.refused.append((str(efm_id), exc.message))
    return report
