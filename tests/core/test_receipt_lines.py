"""Receipt lines through core: proposed by the reading, confirmed or corrected, paid for what they justify."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image

from core import declarations as d
from core import justification as jst
from core import prechecks, receipt_lines, receipts
from core.errors import InvalidInput
from core.estimates import estimate_for
from core.models import LineState
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"


def photo(seed: int) -> bytes:
    """A small distinct JPEG (content does not matter to the matching)."""
    img = Image.new("RGB", (400, 600), (255, 255 - seed, 255))
    out = BytesIO()
    img.save(out, "JPEG")
    return out.getvalue()


def seeded(db, base: datetime | None = None):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s, base)
    return db


def declare_meals_and_hotel(s, efm) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: a two-day correction mission, by car, 3 meals and 1 hotel night, 118,40 € of receipts."""
    start = efm.convocation.mission.start_at
    day0 = start.replace(hour=0, minute=0)
    d.set_service_done(s, efm, True, ACTOR)
    d.set_quantity(s, efm, 100, ACTOR)
    d.set_times(s, efm, day0 + timedelta(hours=7, minutes=30), day0 + timedelta(days=1, hours=19, minutes=30), ACTOR)
    d.add_trip(
        s, efm, day0 + timedelta(hours=7, minutes=30), "ST LO", day0 + timedelta(hours=8, minutes=30), "CAEN", ACTOR,
        mode="voiture", distance_km=70,
    )  # fmt: skip
    d.add_trip(
        s, efm, day0 + timedelta(days=1, hours=18, minutes=30), "CAEN", day0 + timedelta(days=1, hours=19, minutes=30),
        "ST LO", ACTOR, mode="voiture", distance_km=70,
    )  # fmt: skip
    d.set_car(s, efm, 5, 1000, ACTOR)
    d.set_lodging(s, efm, 1, Decimal("95.00"), ACTOR)
    d.set_meals(s, efm, 3, 0, ACTOR)
    d.set_receipts_total(s, efm, Decimal("118.40"), ACTOR)


def add_read(s, efm, seed: int, name: str, reading: dict):  # type: ignore[no-untyped-def]
    receipt, _ = receipts.add_receipt(s, efm, photo(seed), name, source="chat", actor=ACTOR)
    receipts.record_reading(s, receipt.id, {"confidence": 0.9, "engine": "ocr"} | reading)
    return receipt


def test_meal_and_hotel_pay_one_night_and_three_meals_once(db) -> None:  # type: ignore[no-untyped-def]
    session_scope = seeded(db)
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        declare_meals_and_hotel(s, efm)
        day0 = efm.convocation.mission.start_at.date()
        hotel = add_read(
            s, efm, 1, "hotel.jpg", {"total": "95.00", "date": (day0 + timedelta(days=1)).isoformat(), "kind": "hotel"}
        )
        meal = add_read(
            s, efm, 2, "resto.jpg", {"total": "23.40", "date": day0.isoformat(), "kind": "meal", "time": "20:15"}
        )
        for r in (hotel, meal):
            receipt_lines.confirm(s, efm, r.id, ACTOR)
        est = estimate_for(s, efm)
        by_cat = est.by_category()
        assert by_cat["lodging"] == Decimal("90.00")  # 1 night x min(95,00, 90,00 standard cap)
        assert by_cat["meals"] == Decimal("60.00")  # 3 x 20,00, the restaurant receipt is only proof
        assert "transport" not in by_cat  # never "Transport sur justificatifs 23,40"
        assert by_cat["car"] == Decimal("44.80")  # 140 km x 0,32
        codes = {f.code for f in prechecks.compute_flags(s, efm)}
        assert codes == {prechecks.SERVICE_FAIT_MISSING, prechecks.TOTAL_MATCHES}
        views = {v.receipt.id: v for v in receipt_lines.line_views(s, efm)}
        assert views[hotel.id].justification.counted and "nuit" in views[hotel.id].justification.justifies
        assert not views[meal.id].justification.counted and "repas" in views[meal.id].justification.justifies
        assert views[meal.id].text == (
            "resto.jpg : Restaurant (repas), 23,40 € : "
            "preuve d'un repas (payé au forfait, le ticket n'est pas remboursé)"
        )
        assert d.submit(s, efm, ACTOR, confirmed_warnings=[])


def test_a_reading_without_kind_is_corrected_in_one_step_and_the_total_follows(db) -> None:  # type: ignore[no-untyped-def]
    session_scope = seeded(db)
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        declare_meals_and_hotel(s, efm)
        d.set_receipts_total(s, efm, Decimal("100.00"), ACTOR)  # typed by hand first
        day0 = efm.convocation.mission.start_at.date()
        meal = add_read(s, efm, 3, "ticket.jpg", {"total": "23.40", "date": day0.isoformat()})  # today's OCR: no kind
        line = receipt_lines.line_of(s, meal)
        assert line.state is LineState.PROPOSED and line.kind is None and line.amount_read == Decimal("23.40")
        assert jst.KIND_UNKNOWN in {f.code for f in prechecks.compute_flags(s, efm)}
        with pytest.raises(InvalidInput, match="choisissez ce qu'est ce justificatif"):
            receipt_lines.confirm(s, efm, meal.id, ACTOR)
        unread = add_read(s, efm, 4, "flou.jpg", {"total": None, "error": "illisible"})
        receipt_lines.correct(s, efm, meal.id, ACTOR, kind="meal")
        assert line.state is LineState.CORRECTED and line.amount_confirmed == Decimal("23.40")
        assert efm.receipts_total == Decimal("100.00")  # one line cannot be read: the typed total stays
        flags = {f.code: f for f in prechecks.compute_flags(s, efm)}
        assert prechecks.TOTAL_TYPED in flags and "« flou.jpg »" in flags[prechecks.TOTAL_TYPED].message
        receipt_lines.correct(s, efm, unread.id, ACTOR, kind="lodging", amount=Decimal("95"))
        assert efm.receipts_total == Decimal("118.40")  # every line confirmed: the sum
        assert estimate_for(s, efm).by_category()["lodging"] == Decimal("90.00")
        with pytest.raises(InvalidInput, match="Nature de justificatif inconnue"):
            receipt_lines.correct(s, efm, meal.id, ACTOR, kind="casino")
        with pytest.raises(InvalidInput, match="positif"):
            receipt_lines.correct(s, efm, meal.id, ACTOR, amount=Decimal("-3"))


def test_meal_receipts_are_asked_for_missions_of_january_to_july_2024(db) -> None:  # type: ignore[no-untyped-def]
    session_scope = seeded(db, datetime(2024, 3, 18, 12, 0))
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        declare_meals_and_hotel(s, efm)
        day0 = efm.convocation.mission.start_at.date()
        add_read(s, efm, 5, "hotel.jpg", {"total": "95.00", "date": day0.isoformat(), "kind": "hotel"})
        add_read(s, efm, 6, "resto.jpg", {"total": "23.40", "date": day0.isoformat(), "kind": "restaurant"})
        flags = {f.code: f for f in prechecks.compute_flags(s, efm)}
        assert "il en manque 2" in flags[jst.MEAL_RECEIPTS_MISSING].message
        assert "janvier et juillet 2024" in flags[jst.MEAL_RECEIPTS_MISSING].message


def _train_trips(s, efm):  # type: ignore[no-untyped-def]
    start = efm.convocation.mission.start_at
    d.set_service_done(s, efm, True, ACTOR)
    d.set_times(s, efm, start - timedelta(hours=2), start + timedelta(days=1, hours=10), ACTOR)
    d.add_trip(s, efm, start - timedelta(hours=2), "ST LO", start - timedelta(hours=1), "CAEN", ACTOR)
    d.add_trip(s, efm, start + timedelta(days=1, hours=8), "CAEN", start + timedelta(days=1, hours=9), "ST LO", ACTOR)


def test_a_ticket_dated_on_another_day_than_any_trip_is_flagged_and_not_paid(db) -> None:  # type: ignore[no-untyped-def]
    session_scope = seeded(db)
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        _train_trips(s, efm)
        day0 = efm.convocation.mission.start_at.date()
        trip = {"from_city": "Saint-Lô", "to_city": "Caen", "travel_date": day0.isoformat()}
        good = add_read(s, efm, 7, "aller.pdf", {"total": "12.50", "kind": "train", "trip": trip})
        wrong_day = (day0 + timedelta(days=1)).isoformat()  # the return is on day 1... but this ticket says day 0 + 4
        late = {"from_city": "Caen", "to_city": "St Lo", "travel_date": (day0 + timedelta(days=4)).isoformat()}
        bad = add_read(s, efm, 8, "retour.pdf", {"total": "12.50", "date": wrong_day, "kind": "train", "trip": late})
        result = receipt_lines.justification_of(s, efm)
        assert result.of(good.id).counted and result.of(good.id).justifies.startswith("trajet ST LO → CAEN")
        assert not result.of(bad.id).counted
        flags = prechecks.compute_flags(s, efm)
        codes = [f.code for f in flags]
        assert jst.OUTSIDE_MISSION in codes  # day 0 + 4 is past the mission and its travel day
        assert jst.TRIP_NO_TICKET in codes  # the return trip has no ticket
        assert estimate_for(s, efm).by_category()["transport"] == Decimal("12.50")


def test_a_ticket_within_the_mission_but_on_no_trip_day(db) -> None:  # type: ignore[no-untyped-def]
    session_scope = seeded(db)
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        start = efm.convocation.mission.start_at
        d.set_service_done(s, efm, True, ACTOR)
        d.set_times(s, efm, start - timedelta(hours=2), start + timedelta(days=1, hours=10), ACTOR)
        d.add_trip(s, efm, start - timedelta(hours=2), "ST LO", start - timedelta(hours=1), "CAEN", ACTOR)
        other_day = (start + timedelta(days=1)).date().isoformat()
        ticket = add_read(
            s, efm, 9, "billet.pdf", {"total": "30.00", "kind": "train", "trip": {"travel_date": other_day}}
        )
        flags = {f.code: f for f in prechecks.compute_flags(s, efm)}
        assert "aucun trajet déclaré ce jour-là" in flags[jst.TICKET_NO_TRIP].message
        assert not receipt_lines.justification_of(s, efm).of(ticket.id).counted
        assert "transport" not in estimate_for(s, efm).by_category()


def test_fuel_with_a_personal_car_and_an_other_receipt_justify_nothing(db) -> None:  # type: ignore[no-untyped-def]
    session_scope = seeded(db)
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        declare_meals_and_hotel(s, efm)
        day0 = efm.convocation.mission.start_at.date().isoformat()
        add_read(s, efm, 10, "essence.jpg", {"total": "40.00", "date": day0, "kind": "fuel"})
        add_read(s, efm, 11, "peage.jpg", {"total": "6.80", "date": day0, "kind": "toll"})
        flags = [f for f in prechecks.compute_flags(s, efm) if f.code == jst.JUSTIFIES_NOTHING]
        assert len(flags) == 1 and "indemnités kilométriques" in flags[0].message
        assert estimate_for(s, efm).by_category()["transport"] == Decimal("6.80")  # the toll, not the fuel


def test_lines_loaded_again_keep_their_state(db) -> None:  # type: ignore[no-untyped-def]
    """As every later request sees them (read back from the database, the state a plain string): a receipt still
    being read is not « nature à confirmer », and a corrected line confirmed afterwards stays corrected."""
    from core.models import EtatDeFrais

    session_scope = seeded(db)
    with session_scope() as s:
        efm = efm_by_mission(s, "DEMO-101")
        declare_meals_and_hotel(s, efm)
        receipt, _ = receipts.add_receipt(s, efm, photo(20), "en-cours.jpg", source="chat", actor=ACTOR)
        efm_id, receipt_id, day0 = efm.id, receipt.id, efm.convocation.mission.start_at.date()
    with session_scope() as s:
        codes = {f.code for f in prechecks.compute_flags(s, s.get(EtatDeFrais, efm_id))}
        assert prechecks.RECEIPT_PENDING in codes and jst.KIND_UNKNOWN not in codes
        [view] = receipt_lines.line_views(s, s.get(EtatDeFrais, efm_id))
        assert view.text == "en-cours.jpg : lecture en cours"
        receipts.record_reading(s, receipt_id, {"total": "23.40", "date": day0.isoformat(), "confidence": 0.9})
    with session_scope() as s:
        assert jst.KIND_UNKNOWN in {f.code for f in prechecks.compute_flags(s, s.get(EtatDeFrais, efm_id))}
        receipt_lines.correct(s, s.get(EtatDeFrais, efm_id), receipt_id, ACTOR, kind="meal")
    with session_scope() as s:
        line = receipt_lines.confirm(s, s.get(EtatDeFrais, efm_id), receipt_id, ACTOR)
        assert line.state == LineState.CORRECTED and line.amount_confirmed == Decimal("23.40")
