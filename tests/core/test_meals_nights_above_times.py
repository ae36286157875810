"""More meals or nights declared than the departure and return times cover: the estimate counts fewer, and the
recap says why (an information for the intervenant, nothing to confirm before « Valider »)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from core import checks, prechecks
from core import declarations as d
from core.demo import seed_demo
from core.estimates import estimate_for
from core.rules import load_rules
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"


def _day_trip(s: Any, meals: int, nights: int) -> Any:
    seed_demo(s)
    efm = efm_by_mission(s, "DEMO-101")
    start = efm.convocation.mission.start_at.replace(hour=0, minute=0)
    d.set_service_done(s, efm, True, ACTOR)
    d.set_times(s, efm, start + timedelta(hours=7), start + timedelta(hours=19, minutes=30), ACTOR)
    d.set_lodging(s, efm, nights, Decimal("80.00") if nights else None, ACTOR)
    d.set_meals(s, efm, meals, 0, ACTOR)
    return efm


def test_meals_and_nights_beyond_the_times_are_told_with_what_is_counted(db: Any) -> None:
    with db() as s:
        efm = _day_trip(s, meals=2, nights=1)  # 07:00-19:30: the lunch window only, no night
        flags = {f.code: f for f in prechecks.compute_flags(s, efm)}
        meals, nights = flags[prechecks.MEALS_ABOVE_TIMES], flags[prechecks.NIGHTS_ABOVE_TIMES]
        windows = load_rules().meal_windows_at(efm.convocation.mission.start_at.date()).value
        assert meals.severity == nights.severity == "info"
        assert meals.message.startswith("2 repas déclaré(s), mais vos horaires (départ le ")
        assert f"déjeuner {windows.lunch.start:%H:%M}-{windows.lunch.end:%H:%M}" in meals.message
        assert meals.message.endswith(": 1 repas compté(s).") and nights.message.endswith(": 0 nuit(s) comptée(s).")
        counted = {line.label_fr: line.quantity for line in estimate_for(s, efm).lines}
        assert counted.get("Repas") == 1  # what the message says is what the estimate counts
        codes = {w.code for w in checks.check_before_submit(s, efm).warnings}
        assert prechecks.MEALS_ABOVE_TIMES not in codes and prechecks.NIGHTS_ABOVE_TIMES not in codes


def test_no_word_when_the_times_cover_what_is_declared(db: Any) -> None:
    with db() as s:
        efm = _day_trip(s, meals=1, nights=0)
        codes = {f.code for f in prechecks.compute_flags(s, efm)}
        assert prechecks.MEALS_ABOVE_TIMES not in codes and prechecks.NIGHTS_ABOVE_TIMES not in codes
