"""Reminders: deadline approaching, receipts announced but missing; each queued once."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core import declarations as d
from core.models import EtatDeFrais, OutboxMessage, utcnow
from core.reminders import deadline_for, queue_reminders
from tests.core.helpers import efm_by_mission


def test_deadline_follows_the_mission() -> None:
    assert deadline_for(date(2026, 6, 15)) == date(2026, 8, 31)
    assert deadline_for(date(2026, 8, 31)) == date(2026, 8, 31)
    assert deadline_for(date(2026, 12, 2)) == date(2027, 8, 31)


def test_deadline_reminder_once_per_bucket(db, demo) -> None:  # type: ignore[no-untyped-def]
    with db() as s:
        efm = efm_by_mission(s, "DEMO-301")
        efm.convocation.intervenant.telegram_user_id = 777
        deadline = deadline_for(efm.convocation.mission.start_at.date())
    with db() as s:
        assert queue_reminders(s, deadline - timedelta(days=20)) == 0
        first = queue_reminders(s, deadline - timedelta(days=10))
        assert first >= 2  # chat + e-mail for DEMO-301 at least
        assert queue_reminders(s, deadline - timedelta(days=9)) == 0  # same bucket: not again
        assert queue_reminders(s, deadline - timedelta(days=2)) >= 2  # the 3-day bucket
    with db() as s:
        texts = s.scalars(select(OutboxMessage.text).where(OutboxMessage.recipient == "777")).all()
        assert texts and all("DEMO-301" in t or "DEMO" in t for t in texts)


def test_missing_receipt_reminder(db, demo) -> None:  # type: ignore[no-untyped-def]
    with db() as s:
        efm = efm_by_mission(s, "DEMO-201")
        d.set_service_done(s, efm, False, "t")
        d.set_receipts_total(s, efm, Decimal("30.00"), "t")
        d.submit(s, efm, "t")
        efm.submitted_at = utcnow() - timedelta(days=4)
        efm_id = efm.id
    with db() as s:
        queued = queue_reminders(s, date.today())
        kinds = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.kind == "missing_receipt")).all()
        assert queued >= 1 and len(kinds) == 1
        assert s.get(EtatDeFrais, efm_id).dossier_number in s.scalar(
            select(OutboxMessage.text).where(OutboxMessage.kind == "missing_receipt")
        )
