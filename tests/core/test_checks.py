"""Imag'in's rules before « Valider »: refusals, the move of misplaced trips, warnings confirmed explicitly."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core import checks, prechecks
from core import declarations as d
from core.errors import InvalidInput
from core.statuses import PartStatus
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"


@pytest.fixture
def seeded(any_db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with any_db() as s:
        seed_demo(s)
    return any_db


def _declare(s, efm, depart_hour: int, return_hour: int, quantity: int | None = None) -> None:  # type: ignore[no-untyped-def]
    day = efm.convocation.mission.start_at.replace(hour=0, minute=0)
    d.set_service_done(s, efm, True, ACTOR)
    if quantity is not None:
        d.set_quantity(s, efm, quantity, ACTOR)
    d.set_times(s, efm, day + timedelta(hours=depart_hour), day + timedelta(hours=return_hour), ACTOR)


def test_trips_on_the_second_mission_of_a_day_are_refused_and_moved_to_the_first(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        first, second = efm_by_mission(s, "DEMO-102"), efm_by_mission(s, "DEMO-103")  # 08:00 and 14:00, same day
        _declare(s, first, 7, 13, quantity=8)
        _declare(s, second, 13, 19)
        day = second.convocation.mission.start_at.replace(hour=0, minute=0)
        d.add_trip(s, second, day + timedelta(hours=18), "CAEN", day + timedelta(hours=19), "ST LO", ACTOR)
        result = checks.check_before_submit(s, second)
        assert [e.code for e in result.errors] == [checks.NOT_FIRST_MISSION]
        assert "n° DEMO-102" in result.errors[0].message
        with pytest.raises(InvalidInput, match="Validation impossible : Deux missions le"):
            d.submit(s, second, ACTOR)
        assert second.travel_status == PartStatus.DONE  # nothing changed
        assert any(f.code == prechecks.NOT_FIRST_MISSION and f.severity == "blocking" for f in second.flags) or any(
            f.code == prechecks.NOT_FIRST_MISSION for f in prechecks.compute_flags(s, second)
        )
        target = checks.move_trips_to_first_mission(s, second, ACTOR)
        assert target.id == first.id
        assert [(t.depart_city, t.arrive_city) for t in first.trips] == [("CAEN", "ST LO")] and not second.trips
        assert checks.check_before_submit(s, second).errors == []
        assert d.submit(s, second, ACTOR)
        with pytest.raises(InvalidInput, match="déjà sur la première mission"):
            checks.move_trips_to_first_mission(s, first, ACTOR)


def test_the_car_goes_with_the_trips_moved_to_the_first_mission(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        first, second = efm_by_mission(s, "DEMO-102"), efm_by_mission(s, "DEMO-103")
        _declare(s, second, 7, 19)
        day = second.convocation.mission.start_at.replace(hour=0, minute=0)
        d.add_trip(
            s, second, day + timedelta(hours=7), "ST LO", day + timedelta(hours=8), "CAEN", ACTOR,
            mode="voiture", distance_km=60,
        )  # fmt: skip
        d.set_car(s, second, 6, 12000, ACTOR)
        assert checks.trips_move_target(s, second) is first
        checks.move_trips_to_first_mission(s, second, ACTOR)
        assert [(t.mode, t.distance_km) for t in first.trips] == [("voiture", 60)]
        assert (first.car_fiscal_hp, first.car_yearly_km) == (6, 12000)  # not asked again on the first mission
        assert checks.trips_move_target(s, second) is None and checks.trips_move_target(s, first) is None


def test_times_overlapping_another_mission_are_refused(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        first, second = efm_by_mission(s, "DEMO-102"), efm_by_mission(s, "DEMO-103")
        _declare(s, first, 7, 15, quantity=8)
        _declare(s, second, 13, 19)
        errors = checks.check_before_submit(s, second).errors
        assert [e.code for e in errors] == [checks.TIMES_OVERLAP] and "mission n° DEMO-102" in errors[0].message
        with pytest.raises(InvalidInput, match="chevauchent"):
            d.submit(s, second, ACTOR)
        d.set_times(s, first, first.departure_at, first.departure_at + timedelta(hours=6), ACTOR)  # back at 13:00
        assert checks.check_before_submit(s, second).errors == []


def test_a_quantity_impossible_in_the_time_spent_is_refused(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        oral = efm_by_mission(s, "DEMO-102")
        oral.convocation.mission.exam.oral_minutes_per_candidate = 30  # the exam's own duration per candidate
        _declare(s, oral, 7, 13, quantity=13)  # 6,5 h of orals in 6 h away from home
        [error] = checks.check_before_submit(s, oral).errors
        assert error.code == checks.QUANTITY_IMPOSSIBLE and "13 candidats à 30 min demandent 6,5 h" in error.message
        with pytest.raises(InvalidInput, match="plus que le temps de la mission"):
            d.submit(s, oral, ACTOR)
        d.set_quantity(s, oral, 12, ACTOR)
        assert checks.check_before_submit(s, oral).errors == []
        oral.convocation.mission.exam.oral_minutes_per_candidate = None  # then 10 min at least (rules.toml)
        d.set_quantity(s, oral, 37, ACTOR)
        assert "37 candidats à 10 min" in checks.check_before_submit(s, oral).errors[0].message
        copies = efm_by_mission(s, "DEMO-101")  # 2 days: 24 h at most, 3 min per copy
        _declare(s, copies, 7, 30, quantity=481)
        assert [e.code for e in checks.check_before_submit(s, copies).errors] == [checks.QUANTITY_IMPOSSIBLE]
        d.set_quantity(s, copies, 480, ACTOR)
        assert checks.check_before_submit(s, copies).errors == []


def test_every_warning_is_confirmed_before_validation(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        _declare(s, efm, 7, 30, quantity=130)  # 130 copies, 120 convoked
        d.set_receipts_total(s, efm, Decimal("40.00"), ACTOR)  # no receipt sent
        result = checks.check_before_submit(s, efm)
        assert result.errors == []
        assert set(result.warning_codes) == {prechecks.QUANTITY_ABOVE, prechecks.RECEIPTS_MISSING}
        with pytest.raises(checks.NeedsConfirmation) as asked:
            d.submit(s, efm, ACTOR, confirmed_warnings=[prechecks.QUANTITY_ABOVE])
        assert "Quantité déclarée 130, convocation : 120" not in asked.value.message
        assert "aucun justificatif reçu" in asked.value.message and "« Je confirme »" in asked.value.message
        assert efm.dossier_number is None
        assert d.submit(s, efm, ACTOR, confirmed_warnings=result.warning_codes) == efm.dossier_number
