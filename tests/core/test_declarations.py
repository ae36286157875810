"""Declaration use cases on the demo data, on SQLite and PostgreSQL alike."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import declarations as d
from core import prechecks, service_fait
from core.errors import IllegalTransition, InvalidInput
from core.estimates import estimate_for
from core.models import AuditEntry, OutboxMessage, StaffUser
from core.statuses import PartStatus
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"


@pytest.fixture
def seeded(any_db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with any_db() as s:
        seed_demo(s)
    return any_db


def test_whole_declaration_gives_a_dossier_number(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        start = efm.convocation.mission.start_at
        d.set_service_done(s, efm, True, ACTOR)
        assert efm.pay_status == PartStatus.DONE and efm.travel_status == PartStatus.DONE
        d.set_quantity(s, efm, 100, ACTOR)
        d.set_times(s, efm, start - timedelta(hours=2), start + timedelta(days=1, hours=10), ACTOR)
        d.add_trip(
            s,
            efm,
            start - timedelta(hours=2),
            "st lo",
            start - timedelta(minutes=30),
            "Caen",
            ACTOR,
            mode="voiture",
            distance_km=70,
        )
        d.add_trip(
            s,
            efm,
            start + timedelta(days=1, hours=8),
            "Caen",
            start + timedelta(days=1, hours=9),
            "ST LO",
            ACTOR,
            mode="voiture",
            distance_km=70,
        )
        d.set_lodging(s, efm, 1, Decimal("85.00"), ACTOR)
        d.set_meals(s, efm, 2, 0, ACTOR)
        d.set_car(s, efm, 5, 1000, ACTOR)
        d.set_receipts_total(s, efm, Decimal("85.00"), ACTOR)
        number = d.submit(s, efm, ACTOR)
        assert number == f"{start.year}-{efm.id:06d}"
        assert efm.pay_status == PartStatus.TO_VALIDATE and efm.travel_status == PartStatus.TO_VALIDATE
        codes = {f.code for f in prechecks.compute_flags(s, efm)}
        assert prechecks.SERVICE_FAIT_MISSING in codes and prechecks.RECEIPTS_MISSING in codes
        est = estimate_for(s, efm)
        assert est.pay == Decimal("500.00")  # 100 copies x 5.00 (T5)
        assert est.travel > 0 and est.total == est.pay + est.travel
        audit = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_id == efm.id))
        assert audit >= 8
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        assert [t.depart_city for t in efm.trips] == ["ST LO", "CAEN"]
        with pytest.raises(IllegalTransition):
            d.set_quantity(s, efm, 3, ACTOR)


def test_bad_inputs_are_refused_with_french_reasons(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        start = efm.convocation.mission.start_at
        with pytest.raises(InvalidInput, match="après le départ"):
            d.set_times(s, efm, start, start - timedelta(hours=1), ACTOR)
        with pytest.raises(InvalidInput, match="en dehors des dates de la mission"):
            d.add_trip(s, efm, start + timedelta(days=9), "A", start + timedelta(days=9, hours=1), "B", ACTOR)
        with pytest.raises(InvalidInput, match="L'arrivée"):
            d.add_trip(s, efm, start, "A", start - timedelta(hours=1), "B", ACTOR)
        with pytest.raises(InvalidInput):
            d.set_quantity(s, efm, -1, ACTOR)
        with pytest.raises(InvalidInput, match="Avant de valider"):
            d.submit(s, efm, ACTOR)
        jury = efm_by_mission(s, "DEMO-103")
        with pytest.raises(InvalidInput, match="ne demande pas de quantité"):
            d.set_quantity(s, jury, 3, ACTOR)


def test_trips_on_second_mission_of_the_day_are_flagged(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        second = efm_by_mission(s, "DEMO-103")  # same day as DEMO-102, later
        start = second.convocation.mission.start_at
        d.add_trip(s, second, start - timedelta(hours=1), "ST LO", start - timedelta(minutes=5), "CAEN", ACTOR)
        assert prechecks.NOT_FIRST_MISSION in {f.code for f in prechecks.compute_flags(s, second)}
        first = efm_by_mission(s, "DEMO-102")
        start = first.convocation.mission.start_at
        d.add_trip(s, first, start - timedelta(hours=1), "ST LO", start - timedelta(minutes=5), "CAEN", ACTOR)
        assert prechecks.NOT_FIRST_MISSION not in {f.code for f in prechecks.compute_flags(s, first)}


def test_service_fait_by_chef_de_centre_of_the_centre_only(seeded) -> None:  # type: ignore[no-untyped-def]
    from core.errors import Forbidden

    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        d.set_service_done(s, efm, True, ACTOR)
        own = s.scalar(select(StaffUser).where(StaffUser.centre_id == efm.convocation.mission.centre_id))
        other = s.scalar(select(StaffUser).where(StaffUser.centre_id != efm.convocation.mission.centre_id))
        with pytest.raises(Forbidden):
            service_fait.attest(s, efm, True, other, source="bot")
        service_fait.attest(s, efm, True, own, source="bot")
        assert prechecks.SERVICE_FAIT_MISSING not in {f.code for f in prechecks.compute_flags(s, efm)}


def test_service_fait_is_attested_once_the_mission_has_begun(seeded) -> None:  # type: ignore[no-untyped-def]
    from core.errors import InvalidInput

    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        mission = efm.convocation.mission
        chef = s.scalar(select(StaffUser).where(StaffUser.centre_id == mission.centre_id))
        mission.start_at = datetime.now() + timedelta(hours=2)
        with pytest.raises(InvalidInput, match="ne peut être attesté qu'à partir de ce moment"):
            service_fait.attest(s, efm, True, chef, source="console")
        assert efm.service_fait is None
        mission.start_at = datetime.now() - timedelta(minutes=1)
        assert service_fait.attest(s, efm, True, chef, source="console").done


def test_done_is_declared_once_the_mission_has_begun(seeded) -> None:  # type: ignore[no-untyped-def]
    from core.errors import InvalidInput

    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        efm.convocation.mission.start_at = datetime.now() + timedelta(days=1)
        with pytest.raises(InvalidInput, match="vous pourrez la déclarer effectuée à partir de ce moment"):
            d.set_service_done(s, efm, True, ACTOR)
        d.set_service_done(s, efm, False, ACTOR)  # not done: may be said beforehand
        assert efm.service_done is False


def test_not_done_then_submit(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-201")
        d.set_service_done(s, efm, False, ACTOR)
        assert efm.pay_status == PartStatus.NOT_DONE
        d.submit(s, efm, ACTOR)
        assert estimate_for(s, efm).total == Decimal("0.00")


def test_submission_notifies_a_linked_intervenant_once(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-201")
        efm.convocation.intervenant.telegram_user_id = 4242
        d.set_service_done(s, efm, False, ACTOR)
        d.submit(s, efm, ACTOR)
    with seeded() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "4242")).all()
        assert [r.kind for r in rows] == ["dossier_submitted"]


def test_oral_is_paid_by_the_hourly_group(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-102")  # bac oral: copies group T5, hourly group T3 (9.60 / hour)
        d.set_service_done(s, efm, True, ACTOR)
        d.set_quantity(s, efm, 12, ACTOR)  # 12 candidates x 30 min = 6 h
        assert estimate_for(s, efm).pay == Decimal("57.60")
