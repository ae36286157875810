"""Imag'in's rules before « Valider »: what refuses a declaration, and the warnings to confirm (« Je confirme »).

Refused (blocking): trips on a mission that is not the first of its day (Imag'in shows « Invalidable »; see
:func:`move_trips_to_first_mission`), departure and return times overlapping another mission of the same person,
a quantity impossible in the time of the mission (``minimum_time_per_unit`` in config/rules.toml). Every warning
of the pre-checks is listed and must be confirmed explicitly: ``core.declarations.submit(confirmed_warnings=...)``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, contains_eager

from core.errors import InvalidInput
from core.french import format_at, format_date, format_duration, format_number
from core.models import Convocation, EtatDeFrais
from core.rules import load_rules

if TYPE_CHECKING:
    from core.prechecks import FlagData

NOT_FIRST_MISSION = "trips_not_first_mission"  # Imag'in shows "Invalidable"
TIMES_OVERLAP = "times_overlap_other_mission"
QUANTITY_IMPOSSIBLE = "quantity_impossible_for_time"


@dataclass(frozen=True)
class Problem:
    code: str
    message: str  # French


@dataclass(frozen=True)
class SubmitCheck:
    """What stands before validation: errors refuse it, warnings need « Je confirme »."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def warning_codes(self) -> list[str]:
        return list(dict.fromkeys(w.code for w in self.warnings))

    def unconfirmed(self, confirmed: Collection[str]) -> list[Problem]:
        return [w for w in self.warnings if w.code not in confirmed]


class NeedsConfirmation(InvalidInput):
    """Validation waits for the intervenant to confirm the warnings listed."""

    def __init__(self, warnings: list[Problem]) -> None:
        super().__init__(
            "Avant de valider, confirmez avoir vérifié ces points (« Je confirme ») :\n"
            + "\n".join(f"- {w.message}" for w in warnings)
        )
        self.warnings = warnings


_OTHERS = (
    select(EtatDeFrais)
    .join(EtatDeFrais.convocation)
    .options(contains_eager(EtatDeFrais.convocation).joinedload(Convocation.mission))
    .where(Convocation.intervenant_id == bindparam("person_id"), EtatDeFrais.id != bindparam("efm_id"))
)  # built once (building it cost more than running it); the person and the dossier bound per call


def _others(session: Session, efm: EtatDeFrais) -> list[EtatDeFrais]:
    """The person's other états de frais, with their convocation and mission (one query)."""
    return list(session.scalars(_OTHERS, {"person_id": efm.convocation.intervenant_id, "efm_id": efm.id}))


def first_mission_of_day(
    session: Session, efm: EtatDeFrais, day: date, others: list[EtatDeFrais] | None = None
) -> EtatDeFrais | None:
    """The état de frais of the person's first mission starting on ``day``, when it is another one than this
    (``others``: the person's other états de frais, when already read)."""
    mine = efm.convocation.mission
    earlier = [
        other
        for other in (_others(session, efm) if others is None else others)
        if other.convocation.mission.start_at.date() == day
        and (other.convocation.mission.start_at, other.convocation.mission.number) < (mine.start_at, mine.number)
    ]
    return min(earlier, key=lambda o: (o.convocation.mission.start_at, o.convocation.mission.number), default=None)


def _misplaced_trips(
    session: Session, efm: EtatDeFrais, others: list[EtatDeFrais] | None = None
) -> dict[date, EtatDeFrais]:
    """Days on which this mission has trips although another mission of the person comes first that day."""
    if not efm.trips or efm.convocation.mission.start_at.date() not in _trip_days(efm):
        return {}
    day = efm.convocation.mission.start_at.date()
    first = first_mission_of_day(session, efm, day, others)
    return {day: first} if first is not None else {}


def trips_move_target(session: Session, efm: EtatDeFrais) -> EtatDeFrais | None:
    """The first mission of the day that this mission's trips belong on (None: they are where they belong)."""
    return next(iter(_misplaced_trips(session, efm).values()), None)


def _trip_days(efm: EtatDeFrais) -> set[date]:
    return {t.depart_at.date() for t in efm.trips} | {t.arrive_at.date() for t in efm.trips}


def _overlaps(efm: EtatDeFrais, others: list[EtatDeFrais]) -> list[Problem]:
    if efm.departure_at is None or efm.return_at is None or not efm.service_done:
        return []
    problems = []
    for other in others:
        if other.departure_at is None or other.return_at is None or other.service_done is False:
            continue
        if efm.departure_at < other.return_at and other.departure_at < efm.return_at:
            number = other.convocation.mission.number
            problems.append(
                Problem(
                    TIMES_OVERLAP,
                    f"Vos horaires (départ le {format_at(efm.departure_at)}, retour le {format_at(efm.return_at)}) "
                    f"chevauchent ceux de la mission n° {number} (départ le {format_at(other.departure_at)}, "
                    f"retour le {format_at(other.return_at)}) : corrigez l'une ou l'autre.",
                )
            )
    return problems


def _available_minutes(efm: EtatDeFrais, hours_per_day: int) -> int:
    """Working time of the mission: its days at most, the time between departure and return less the trips."""
    mission = efm.convocation.mission
    limit = max(mission.duration_days, 1) * hours_per_day * 60
    if efm.departure_at is None or efm.return_at is None or str(mission.mission_type) == "correction":
        return limit
    away = (efm.return_at - efm.departure_at).total_seconds() / 60
    travel = sum((t.arrive_at - t.depart_at).total_seconds() / 60 for t in efm.trips)
    return int(min(limit, max(away - travel, 0)))


def impossible_quantity(efm: EtatDeFrais) -> Problem | None:
    """A quantity that the mission's time cannot hold, from the least time per copy or candidate."""
    mission = efm.convocation.mission
    if not efm.service_done:
        return None
    times = load_rules().in_force("minimum_time_per_unit", mission.start_at.date()).value
    available = _available_minutes(efm, times.hours_per_day)
    kind = str(mission.mission_type)
    if kind == "correction" and efm.copies:
        needed, what = efm.copies * times.copy_minutes, f"{efm.copies} copies à {times.copy_minutes} min au moins"
    elif kind == "oral" and efm.candidates:
        per = mission.exam.oral_minutes_per_candidate or times.candidate_minutes
        needed, what = efm.candidates * per, f"{efm.candidates} candidats à {per} min"
    elif kind == "pratique" and efm.practical_minutes:
        needed, what = efm.practical_minutes, f"{format_duration(efm.practical_minutes)} d'épreuve"
    else:
        return None
    if needed <= available:
        return None
    return Problem(
        QUANTITY_IMPOSSIBLE,
        f"{what} demandent {format_number(needed / 60, 1)} h, plus que le temps de la mission "
        f"({format_duration(available)}) : vérifiez la quantité ou les horaires.",
    )


def blocking_problems(session: Session, efm: EtatDeFrais) -> list[Problem]:
    """What Imag'in refuses in this declaration."""
    others = _others(session, efm)
    problems = [
        Problem(
            NOT_FIRST_MISSION,
            f"Deux missions le {format_date(day)} : les trajets se déclarent sur la première mission de la journée "
            f"(n° {first.convocation.mission.number}), pas sur celle-ci. Déplacez-les vers cette mission.",
        )
        for day, first in _misplaced_trips(session, efm, others).items()
    ]
    problems += _overlaps(efm, others)
    quantity = impossible_quantity(efm)
    if quantity is not None:
        problems.append(quantity)
    return problems


def check_before_submit(
    session: Session, efm: EtatDeFrais, flags: list[FlagData] | None = None, errors: list[Problem] | None = None
) -> SubmitCheck:
    """Errors that refuse validation, and the warnings the intervenant must confirm. ``flags`` and ``errors``:
    ``prechecks.compute_flags`` and ``blocking_problems`` of this dossier as it is, when already computed."""
    from core import prechecks

    if errors is None:
        errors = blocking_problems(session, efm)
    if flags is None:
        flags = prechecks.compute_flags(session, efm, blocking=errors)
    codes = {e.code for e in errors}
    warnings = [
        Problem(f.code, f.message)
        for f in flags
        if f.severity == "warning" and f.code not in codes and f.code not in prechecks.DEC_ONLY_FLAGS
    ]
    return SubmitCheck(errors, warnings)


def move_trips_to_first_mission(session: Session, efm: EtatDeFrais, actor: str) -> EtatDeFrais:
    """Move the trips of the mission's day to the first mission of that day (both drafts, audited); the personal
    car's horsepower and yearly distance go with them when the first mission has none."""
    from core import declarations, prechecks

    misplaced = _misplaced_trips(session, efm)
    if not misplaced:
        raise InvalidInput("Les trajets de cette mission sont déjà sur la première mission de la journée.")
    day, first = next(iter(misplaced.items()))
    declarations.require_editable(efm)
    declarations.require_editable(first)
    for trip in [t for t in efm.trips if day in (t.depart_at.date(), t.arrive_at.date())]:
        declarations.add_trip(
            session,
            first,
            trip.depart_at,
            trip.depart_city,
            trip.arrive_at,
            trip.arrive_city,
            actor,
            mode=trip.mode,
            distance_km=trip.distance_km,
        )
        declarations.remove_trip(session, efm, trip.id, actor)
    by_car = any(t.mode == "voiture" for t in first.trips)
    if by_car and first.car_fiscal_hp is None and efm.car_fiscal_hp is not None:  # the car goes with its trips
        declarations.set_car(session, first, efm.car_fiscal_hp, efm.car_yearly_km, actor)
    prechecks.refresh_flags(session, efm)
    prechecks.refresh_flags(session, first)
    return first
