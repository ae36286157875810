"""Missions as an intervenant or a chef de centre sees them; the mission window."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from core.errors import NotFound
from core.models import Convocation, EtatDeFrais, Mission, Trip

# Travel the day before and the day after the mission is part of it.
TRAVEL_MARGIN = timedelta(days=1)


def mission_end(mission: Mission) -> datetime:
    """The last minute of the mission's last day."""
    last_day = mission.start_at.date() + timedelta(days=max(mission.duration_days, 1) - 1)
    return datetime.combine(last_day, time(23, 59))


def has_started(mission: Mission, now: datetime | None = None) -> bool:
    """The mission has begun (times are the centre's local time): it may be declared done and attested."""
    return mission.start_at <= (now or datetime.now())


def mission_window(mission: Mission) -> tuple[datetime, datetime]:
    """The span in which departure, return and trips must fall (mission days plus a day each side)."""
    start = datetime.combine(mission.start_at.date(), time(0, 0)) - TRAVEL_MARGIN
    return start, mission_end(mission) + TRAVEL_MARGIN


@cache
def _efm_query() -> Select[EtatDeFrais]:
    """États de frais with their convocation, mission (exam, centre) and intervenant, in one query
    (built once: statements are immutable, each ``where`` makes a new one)."""
    return (
        select(EtatDeFrais)
        .join(EtatDeFrais.convocation)
        .join(Convocation.mission)
        .options(
            joinedload(EtatDeFrais.convocation).joinedload(Convocation.intervenant),
            joinedload(EtatDeFrais.convocation).joinedload(Convocation.mission).joinedload(Mission.exam),
            joinedload(EtatDeFrais.convocation).joinedload(Convocation.mission).joinedload(Mission.centre),
        )
    )


def efms_of_intervenant(session: Session, intervenant_id: int) -> list[EtatDeFrais]:
    """The intervenant's états de frais, by mission start."""
    q = _efm_query().where(Convocation.intervenant_id == intervenant_id).order_by(Mission.start_at, Mission.number)
    return list(session.scalars(q).unique())


@cache
def _one_efm_query(of_intervenant: bool) -> Select[EtatDeFrais]:
    """One état de frais by ``efm_id`` (and ``intervenant_id``) with what ``_efm_query`` loads and its trips
    (nearly always read next): one query, each table joined once and read into its relationship (cheaper to
    load than aliased eager joins); bound parameters, built once (building a statement and its cache key costs
    more than running it on SQLite)."""
    convocation = contains_eager(EtatDeFrais.convocation)
    mission = convocation.contains_eager(Convocation.mission)
    q = (
        select(EtatDeFrais)
        .join(EtatDeFrais.convocation)
        .join(Convocation.intervenant)
        .join(Convocation.mission)
        .join(Mission.exam)
        .join(Mission.centre)
        .outerjoin(EtatDeFrais.trips)
        .options(
            convocation.contains_eager(Convocation.intervenant),
            mission.contains_eager(Mission.exam),
            mission.contains_eager(Mission.centre),
            contains_eager(EtatDeFrais.trips),
        )
        .where(EtatDeFrais.id == bindparam("efm_id"))
        .order_by(Trip.depart_at, Trip.id)  # the trips relationship's order
    )
    return q.where(Convocation.intervenant_id == bindparam("intervenant_id")) if of_intervenant else q


def efm_of_intervenant(session: Session, intervenant_id: int, efm_id: int) -> EtatDeFrais:
    """One état de frais, only if it belongs to this intervenant (else NotFound: no data leaks)."""
    params = {"efm_id": efm_id, "intervenant_id": intervenant_id}
    efm = session.scalars(_one_efm_query(True), params).unique().one_or_none()
    if efm is None:
        raise NotFound("Mission introuvable.")
    return efm


def efms_of_centre(session: Session, centre_id: int) -> list[EtatDeFrais]:
    """The états de frais of everyone convoked to a centre, by mission start."""
    q = _efm_query().where(Mission.centre_id == centre_id).order_by(Mission.start_at, Mission.number)
    return list(session.scalars(q).unique())


def get_efm(session: Session, efm_id: int) -> EtatDeFrais:
    efm = session.scalars(_one_efm_query(False), {"efm_id": efm_id}).unique().one_or_none()
    if efm is None:
        raise NotFound("Dossier introuvable.")
    return efm
