"""Trips that leave the residence and never come back to it: the recap says the return may be missing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core import checks, prechecks
from core import declarations as d
from core.demo import seed_demo
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"


def _codes(s: Any, efm: Any) -> set[str]:
    return {f.code for f in prechecks.compute_flags(s, efm)}


def test_an_outward_trip_alone_is_told_and_the_return_settles_it(db: Any) -> None:
    with db() as s:
        seed_demo(s)
        efm = efm_by_mission(s, "DEMO-101")  # Claire MARTIN lives in ST LO
        day = efm.convocation.mission.start_at.replace(hour=0, minute=0)
        d.set_service_done(s, efm, True, ACTOR)
        d.set_times(s, efm, day + timedelta(hours=7), day + timedelta(hours=19), ACTOR)
        d.add_trip(s, efm, day + timedelta(hours=7), "Saint-Lô", day + timedelta(hours=8), "Caen", ACTOR)
        flag = next(f for f in prechecks.compute_flags(s, efm) if f.code == prechecks.NO_TRIP_BACK)
        assert flag.severity == "info" and flag.message.startswith("Aucun trajet ne revient à ST LO")
        assert prechecks.NO_TRIP_BACK not in {w.code for w in checks.check_before_submit(s, efm).warnings}
        d.add_trip(s, efm, day + timedelta(hours=18), "CAEN GARE", day + timedelta(hours=19), "ST-LO", ACTOR)
        assert prechecks.NO_TRIP_BACK not in _codes(s, efm)


def test_trips_that_do_not_start_at_home_say_nothing_of_a_return(db: Any) -> None:
    with db() as s:
        seed_demo(s)
        efm = efm_by_mission(s, "DEMO-101")
        day = efm.convocation.mission.start_at.replace(hour=0, minute=0)
        d.set_service_done(s, efm, True, ACTOR)
        d.set_times(s, efm, day + timedelta(hours=7), day + timedelta(hours=19), ACTOR)
        d.add_trip(s, efm, day + timedelta(hours=9), "Caen", day + timedelta(hours=10), "Bayeux", ACTOR)
        assert prechecks.NO_TRIP_BACK not in _codes(s, efm)
