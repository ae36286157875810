"""The steps of a declaration (core.steps) and the partial checks of a step answered in several messages."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from core import declarations as d
from core import receipts
from core.errors import InvalidInput
from core.models import EtatDeFrais
from core.statuses import PartStatus
from core.steps import StepState, missing_answers, steps_for
from tests.bot.helpers import receipt_pdf
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"
A, M, B = StepState.ANSWERED, StepState.MISSING, StepState.BLOCKED


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s)
    return db


def shape(efm: EtatDeFrais) -> list[tuple[str, StepState]]:
    return [(s.name.value, s.state) for s in steps_for(efm)]


def test_a_fresh_correction_asks_everything_blocked_behind_done(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        steps = steps_for(efm)
        assert [(x.name.value, x.state) for x in steps] == [
            ("done", M),
            ("quantity", B),
            ("times", B),
            ("trips", B),
            ("stay", B),
            ("total", B),
            ("receipts", B),
            ("recap", B),
        ]
        assert steps[0].reason == "indiquer si la mission a été effectuée" and steps[0].required
        assert steps[1].reason == "Indiquez d'abord si la mission a été effectuée."
        assert steps[-1].reason == "Avant de valider, il reste à renseigner : indiquer si la mission a été effectuée."
        assert missing_answers(efm) == ["indiquer si la mission a été effectuée"]


def test_which_steps_apply_by_mission_type_and_part(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        jury = efm_by_mission(s, "DEMO-103")  # a jury counts nothing
        d.set_service_done(s, jury, True, ACTOR)
        assert [n for n, _ in shape(jury)] == ["done", "times", "trips", "stay", "total", "receipts", "recap"]
        practical = efm_by_mission(s, "DEMO-202")
        d.set_service_done(s, practical, True, ACTOR)
        practical.travel_status = PartStatus.NO_COSTS  # no déplacement for this one
        assert shape(practical) == [("done", A), ("quantity", M), ("recap", B)]
        assert steps_for(practical)[1].reason == "la durée des épreuves pratiques"
        practical.pay_status = PartStatus.NO_COSTS  # nothing paid either: nothing to count
        assert shape(practical) == [("done", A), ("recap", M)]
        oral = efm_by_mission(s, "DEMO-102")
        d.set_service_done(s, oral, False, ACTOR)  # not done: straight to the recap
        assert shape(oral) == [("done", A), ("recap", M)]
        assert missing_answers(oral) == []


def test_states_follow_the_answers_and_validation_blocks_everything(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        start = efm.convocation.mission.start_at
        d.set_service_done(s, efm, True, ACTOR)
        assert shape(efm) == [
            ("done", A),
            ("quantity", M),
            ("times", M),
            ("trips", M),
            ("stay", M),
            ("total", M),
            ("receipts", M),
            ("recap", B),
        ]
        assert steps_for(efm)[-1].reason == (
            "Avant de valider, il reste à renseigner : le nombre de copies corrigées ; "
            "les horaires de départ et de retour."
        )
        assert [x.required for x in steps_for(efm)] == [True, True, True, False, False, False, False, True]
        d.set_quantity(s, efm, 100, ACTOR)
        d.set_times(s, efm, start - timedelta(hours=2), start + timedelta(hours=10), ACTOR)
        assert steps_for(efm)[-1].state is M  # only optional steps left: validation is possible
        d.add_trip(
            s, efm, start - timedelta(hours=2), "ST LO", start - timedelta(hours=1), "CAEN", ACTOR, mode="voiture"
        )
        trips = steps_for(efm)[3]
        assert trips.state is M and trips.reason == "la puissance fiscale du véhicule personnel"
        d.set_car(s, efm, 5, None, ACTOR)
        d.set_meals(s, efm, 1, 0, ACTOR)
        d.set_receipts_total(s, efm, Decimal("0"), ACTOR)  # nothing spent: no receipt to send
        assert shape(efm)[3:7] == [("trips", A), ("stay", A), ("total", A), ("recap", M)]
        d.set_receipts_total(s, efm, Decimal("32.40"), ACTOR)
        assert shape(efm)[3:7] == [("trips", A), ("stay", A), ("total", A), ("receipts", M)]
        receipts.add_receipt(s, efm, receipt_pdf(), "billet.pdf", source="chat", source_ref="t:1", actor=ACTOR)
        assert shape(efm)[6] == ("receipts", A)
        d.submit(s, efm, ACTOR)
        after = steps_for(efm)
        assert [x.state for x in after] == [B] * 7 + [A]
        assert "transmis à la DEC" in after[0].reason


def test_submit_refuses_what_the_steps_say_is_missing(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        d.set_service_done(s, efm, True, ACTOR)
        d.set_quantity(s, efm, 10, ACTOR)
        with pytest.raises(InvalidInput, match="il reste à renseigner : les horaires de départ et de retour"):
            d.submit(s, efm, ACTOR)


def test_partial_checks_of_the_times_and_of_a_trips_first_leg(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")  # two days
        start = efm.convocation.mission.start_at
        d.check_departure(efm, start - timedelta(hours=3))  # a departure alone, nothing else known
        with pytest.raises(InvalidInput, match="Le départ .* est en dehors des dates de la mission"):
            d.check_departure(efm, start - timedelta(days=5))
        with pytest.raises(InvalidInput, match="Le retour .* doit être après le départ"):
            d.check_times(efm, start, start - timedelta(minutes=1))
        with pytest.raises(InvalidInput, match="Le retour .* en dehors des dates"):
            d.check_times(efm, start, start + timedelta(days=9))
        d.check_trip_departure(efm, start - timedelta(hours=1))
        with pytest.raises(InvalidInput, match="Le départ du trajet .* en dehors"):
            d.check_trip_departure(efm, start + timedelta(days=30))
        d.check_trip_arrival(efm, start - timedelta(hours=1), start - timedelta(minutes=5))
        with pytest.raises(InvalidInput, match="L'arrivée .* doit être après le départ"):
            d.check_trip_arrival(efm, start, start)
        with pytest.raises(InvalidInput, match="L'arrivée du trajet .* en dehors"):
            d.check_trip_arrival(efm, start, start + timedelta(days=9))
        assert efm.departure_at is None and not efm.trips  # checks save nothing


def test_city_and_count_checks() -> None:
    assert d.check_city("  saint   lô ") == "SAINT LÔ"
    for bad, why in (("", "Indiquez le nom"), ("12 34", "doit contenir des lettres"), ("A" * 121, "trop long")):
        with pytest.raises(InvalidInput, match=why):
            d.check_city(bad)
    d.check_nights(d.MAX_NIGHTS)
    with pytest.raises(InvalidInput, match=r"0 à 31"):
        d.check_nights(32)
    d.check_meals(0)
    with pytest.raises(InvalidInput, match=r"0 à 62"):
        d.check_meals(63)
    with pytest.raises(InvalidInput, match=r"0 à 3000 km"):
        d.check_distance(3001)
    assert all(d.MIN_FISCAL_HP <= hp <= d.MAX_FISCAL_HP for hp in d.FISCAL_HP_CHOICES)


def test_a_trip_with_a_city_without_letters_is_refused_by_the_use_case(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        start = efm.convocation.mission.start_at
        with pytest.raises(InvalidInput, match="doit contenir des lettres"):
            d.add_trip(s, efm, start, "14000", start + timedelta(hours=1), "CAEN", ACTOR)
