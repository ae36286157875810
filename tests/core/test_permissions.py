"""Who may do what (core.permissions), against cases written out by hand, not against the status table."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core import declarations as d
from core.models import Intervenant, StaffRole, StaffUser
from core.permissions import allowed_actions
from core.statuses import Part, PartStatus
from tests.core.helpers import efm_by_mission

ACTOR = "intervenant:test"
S = PartStatus


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s)
    return db


def staff(s, login: str) -> StaffUser:  # type: ignore[no-untyped-def]
    return s.scalar(select(StaffUser).where(StaffUser.login == login))


# (status of the part, status before a cancellation) -> what the DEC may do on that part, written by hand
DEC_CASES = [
    (S.NOT_YET_DONE, None, ["cancel"]),
    (S.DONE, None, ["cancel"]),
    (S.NOT_DONE, None, ["cancel"]),
    (S.TO_VALIDATE, None, ["validate", "reject", "cancel"]),
    (S.INFO_REQUESTED, None, ["cancel"]),
    (S.VALIDATED, None, ["reopen", "cancel"]),
    (S.REJECTED, None, ["reopen", "cancel"]),
    (S.SENT_TO_PAYMENT, None, []),
    (S.CANCELLED, S.TO_VALIDATE, ["restore"]),
    (S.CANCELLED, None, []),  # nothing known to restore to
    (S.NO_COSTS, None, []),
]


@pytest.mark.parametrize(("status", "before", "expected"), DEC_CASES)
def test_the_gestionnaire_on_a_part(seeded: Callable, status: S, before: S | None, expected: list[str]) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        efm.pay_status, efm.pay_status_before_cancel = status, before
        assert allowed_actions(efm, staff(s, "dec.demo"), Part.PAY) == expected
        chef = staff(s, "chef.0141274a")  # the centre of DEMO-101: still no decision on a part
        assert allowed_actions(efm, chef, Part.PAY) == []


def test_the_gestionnaire_on_the_dossier(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")  # begun a week ago
        dec = staff(s, "dec.demo")
        assert allowed_actions(efm, dec) == ["attest"]
        efm.pay_status = efm.travel_status = S.TO_VALIDATE
        assert allowed_actions(efm, dec) == ["attest", "request_info"]
        efm.travel_status = S.VALIDATED  # one part decided: the dossier cannot go back whole
        assert allowed_actions(efm, dec) == ["attest"]
        efm.travel_status = S.NO_COSTS  # no déplacement: the one part decides
        assert allowed_actions(efm, dec) == ["attest", "request_info"]
        dec.active = False
        assert allowed_actions(efm, dec) == [] and allowed_actions(efm, dec, Part.PAY) == []


def test_the_chef_de_centre_attests_begun_missions_of_their_centre_only(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        own, other = efm_by_mission(s, "DEMO-101"), efm_by_mission(s, "DEMO-201")  # centres 0 and 1
        chef = staff(s, "chef.0141274a")
        assert chef.role == StaffRole.CHEF_CENTRE
        assert allowed_actions(own, chef) == ["attest"]
        assert allowed_actions(other, chef) == []
        own.convocation.mission.start_at = datetime.now() + timedelta(days=2)  # not begun yet
        assert allowed_actions(own, chef) == []
        own.pay_status = own.travel_status = S.TO_VALIDATE  # never the DEC's request for more
        own.convocation.mission.start_at = datetime.now() - timedelta(days=2)
        assert allowed_actions(own, chef) == ["attest"]


def test_the_intervenant_on_their_own_dossier(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-101")
        me = efm.convocation.intervenant
        assert allowed_actions(efm, me) == ["declare", "declare_done", "declare_not_done"]
        d.set_service_done(s, efm, False, ACTOR)
        assert allowed_actions(efm, me) == ["declare", "declare_done", "declare_not_done", "submit"]
        assert allowed_actions(efm, me, Part.PAY) == []  # parts are the DEC's
        d.submit(s, efm, ACTOR)
        assert allowed_actions(efm, me) == ["recap_pdf"]  # sent to the DEC: read-only
        efm.pay_status = efm.travel_status = S.INFO_REQUESTED  # the DEC asked for more: open again
        assert allowed_actions(efm, me) == ["recap_pdf", "declare", "declare_done", "declare_not_done", "submit"]
        someone_else = s.scalar(select(Intervenant).where(Intervenant.id != me.id))
        assert allowed_actions(efm, someone_else) == []


def test_a_mission_yet_to_begin_cannot_be_declared_done(seeded: Callable) -> None:  # type: ignore[type-arg]
    with seeded() as s:
        efm = efm_by_mission(s, "DEMO-201")
        efm.convocation.mission.start_at = datetime.now() + timedelta(days=3)
        assert allowed_actions(efm, efm.convocation.intervenant) == ["declare", "declare_not_done"]
