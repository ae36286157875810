"""DEC queue and decisions on the demo data: every decision path, roles, service fait, notifications."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import declarations as d
from core.dec import queue as dec
from core.dec.queue import Operator, QueueFilter
from core.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from core.models import AuditEntry, Decision, OutboxMessage
from core.prechecks import SERVICE_FAIT_MISSING, TOTAL_DIFFERS
from core.statuses import Part, PartStatus
from tests.dec.factory import ACTOR, efm_by_mission, staff, submit_dossier


def _seed(db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s)
        ids = {"caen": submit_dossier(s, "DEMO-101"), "alencon": submit_dossier(s, "DEMO-201", quantity=6)}
    return db, ids


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    """Two submitted dossiers (Caen, Alençon) on SQLite."""
    return _seed(db)


@pytest.fixture
def seeded_any(any_db):  # type: ignore[no-untyped-def]
    """The same on SQLite and on PostgreSQL."""
    return _seed(any_db)


def _gest(s) -> Operator:  # type: ignore[no-untyped-def]
    return Operator.of(staff(s, "dec.demo"))


def _chef(s, code: str) -> Operator:  # type: ignore[no-untyped-def]
    return Operator.of(staff(s, f"chef.{code.lower()}"))


def test_queue_lists_submitted_dossiers_with_flags_oldest_first(seeded_any) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded_any
    with db() as s:
        rows, total = dec.queue(s, _gest(s))
        assert total == 2 and [e.id for e in rows] == [ids["caen"], ids["alencon"]]
        codes = {f.code for f in rows[0].flags}
        assert {SERVICE_FAIT_MISSING, TOTAL_DIFFERS} <= codes
        not_submitted = efm_by_mission(s, "DEMO-102")
        assert not_submitted.id not in [e.id for e in rows]
        caen = rows[0].convocation.mission.centre_id
        assert [e.id for e in dec.queue(s, _gest(s), QueueFilter(centre_id=caen))[0]] == [ids["caen"]]
        assert [e.id for e in dec.queue(s, _gest(s), QueueFilter(mission_type="oral"))[0]] == [ids["alencon"]]
        assert dec.queue(s, _gest(s), QueueFilter(flag=TOTAL_DIFFERS))[1] == 2
        assert dec.queue(s, _gest(s), QueueFilter(status=PartStatus.VALIDATED.value))[1] == 0
        exam = rows[0].convocation.mission.exam
        assert [e.id for e in dec.queue(s, _gest(s), QueueFilter(exam_id=exam.id))[0]] == [ids["caen"]]
        assert dec.queue(s, _gest(s), QueueFilter(session=exam.session))[1] == 2
        with pytest.raises(InvalidInput, match="Statut inconnu"):
            QueueFilter(status="paid")


def test_chef_de_centre_sees_only_their_centre_and_cannot_decide(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        chef = _chef(s, "0141274A")  # LYCEE MALHERBE, CAEN: DEMO-101
        rows, total = dec.queue(s, chef)
        assert total == 1 and rows[0].id == ids["caen"]
        with pytest.raises(NotFound):
            dec.get_dossier(s, chef, ids["alencon"])
        with pytest.raises(Forbidden):
            dec.decide(s, chef, ids["caen"], "validate")
        with pytest.raises(NotFound):
            dec.attest(s, chef, ids["alencon"], True)
        dec.attest(s, chef, ids["caen"], True)
        assert dec.get_dossier(s, chef, ids["caen"]).service_fait.done is True
        other = _chef(s, "06112932")
        assert [e.id for e in dec.queue(s, other)[0]] == [ids["alencon"]]
        assert dec.dashboard(s, chef).waiting == 1


def test_validate_needs_service_fait_then_each_part_on_its_own(seeded_any) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded_any
    with db() as s:
        g = _gest(s)
        with pytest.raises(IllegalTransition, match="service fait n'est pas encore attesté"):
            dec.decide(s, g, ids["caen"], "validate", [Part.PAY])
        dec.attest(s, g, ids["caen"], False)
        with pytest.raises(IllegalTransition, match="n'a pas été effectuée"):
            dec.decide(s, g, ids["caen"], "validate", [Part.PAY])
        dec.attest(s, g, ids["caen"], True)
        assert dec.decide(s, g, ids["caen"], "validate", [Part.PAY]) == [PartStatus.VALIDATED]
        efm = dec.get_dossier(s, g, ids["caen"])
        assert efm.pay_status == PartStatus.VALIDATED and efm.travel_status == PartStatus.TO_VALIDATE
        rows, _ = dec.queue(s, g)
        assert ids["caen"] in [e.id for e in rows]  # travel still waits
        dec.decide(s, g, ids["caen"], "validate", [Part.TRAVEL])
        assert ids["caen"] not in [e.id for e in dec.queue(s, g)[0]]
        with pytest.raises(IllegalTransition, match="Validé"):
            dec.decide(s, g, ids["caen"], "validate", [Part.TRAVEL])
    with db() as s:
        decisions = s.scalars(select(Decision).where(Decision.efm_id == ids["caen"]).order_by(Decision.id)).all()
        assert [(x.part, x.action) for x in decisions] == [("pay", "validate"), ("travel", "validate")]
        assert all(x.actor == f"staff:{staff(s, 'dec.demo').id}" for x in decisions)
        actions = set(
            s.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_id == ids["caen"], AuditEntry.entity == "etat_de_frais"
                )
            )
        )
        assert {"pay:validate", "travel:validate", "service_fait"} <= actions
        mails = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dec_validate")).all()
        assert len(mails) == 2 and all(m.channel == "email" for m in mails)
        assert "validés par la DEC" in mails[0].text


def test_reject_needs_a_reason_and_notifies(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = _gest(s)
        with pytest.raises(InvalidInput, match="motif du rejet"):
            dec.decide(s, g, ids["alencon"], "reject", [Part.TRAVEL], "   ")
        dec.decide(s, g, ids["alencon"], "reject", [Part.TRAVEL], "Trajet sans rapport avec la mission.")
        efm = dec.get_dossier(s, g, ids["alencon"])
        assert efm.travel_status == PartStatus.REJECTED and efm.pay_status == PartStatus.TO_VALIDATE
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dec_reject")).one()
        assert "Trajet sans rapport" in msg.text and msg.recipient == "paul.durand@example.org"
        dec.decide(s, g, ids["alencon"], "reopen", [Part.TRAVEL])
        assert efm.travel_status == PartStatus.TO_VALIDATE


def test_request_info_round_trip_brings_the_dossier_back(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = _gest(s)
        efm_by_mission(s, "DEMO-101").convocation.intervenant.telegram_user_id = 4242
        dec.decide(s, g, ids["caen"], "request_info", reason="Merci d'envoyer la facture de l'hôtel.")
        efm = dec.get_dossier(s, g, ids["caen"])
        assert efm.pay_status == efm.travel_status == PartStatus.INFO_REQUESTED
        assert ids["caen"] not in [e.id for e in dec.queue(s, g)[0]]
        assert dec.queue(s, g, QueueFilter(status=PartStatus.INFO_REQUESTED.value))[1] == 1
        sent = {
            (m.channel, m.recipient)
            for m in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dec_request_info"))
        }
        assert sent == {("telegram", "4242"), ("email", "claire.martin@example.org")}
    with db() as s:  # the intervenant completes and validates again
        efm = efm_by_mission(s, "DEMO-101")
        d.set_receipts_total(s, efm, Decimal("80.00"), ACTOR)
        d.submit(s, efm, ACTOR)
    with db() as s:
        g = _gest(s)
        efm = dec.get_dossier(s, g, ids["caen"])
        assert efm.pay_status == efm.travel_status == PartStatus.TO_VALIDATE
        assert ids["caen"] in [e.id for e in dec.queue(s, g)[0]]
        assert TOTAL_DIFFERS not in {f.code for f in efm.flags}


def test_request_info_refused_when_a_part_is_already_decided(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = _gest(s)
        dec.attest(s, g, ids["caen"], True)
        dec.decide(s, g, ids["caen"], "validate", [Part.PAY])
        with pytest.raises(IllegalTransition, match="Rouvrez-les"):
            dec.decide(s, g, ids["caen"], "request_info", reason="Facture ?")


def test_cancel_and_restore(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = _gest(s)
        with pytest.raises(InvalidInput, match="motif de l'annulation"):
            dec.decide(s, g, ids["caen"], "cancel", [Part.PAY])
        dec.decide(s, g, ids["caen"], "cancel", [Part.PAY], "Mission annulée par le centre.")
        efm = dec.get_dossier(s, g, ids["caen"])
        assert efm.pay_status == PartStatus.CANCELLED
        dec.decide(s, g, ids["caen"], "restore", [Part.PAY])
        assert efm.pay_status == PartStatus.TO_VALIDATE
        with pytest.raises(InvalidInput, match="Décision inconnue"):
            dec.decide(s, g, ids["caen"], "send_to_payment", [Part.PAY])
        count = s.scalar(select(func.count()).select_from(Decision).where(Decision.efm_id == ids["caen"]))
        assert count == 2


def test_dashboard_counts(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = _gest(s)
        board = dec.dashboard(s, g)
        assert board.waiting == 2
        assert board.by_status[PartStatus.TO_VALIDATE.value] == {"pay": 2, "travel": 2}
        assert board.by_flag[SERVICE_FAIT_MISSING] == 2
        assert sum(n for _, n in board.per_day) == 2 and len(board.per_day) == 30
        dec.attest(s, g, ids["caen"], True)
        dec.decide(s, g, ids["caen"], "validate")
        board = dec.dashboard(s, g)
        assert board.waiting == 1 and board.by_status[PartStatus.VALIDATED.value] == {"pay": 1, "travel": 1}
        assert board.by_flag[SERVICE_FAIT_MISSING] == 1
