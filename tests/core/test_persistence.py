"""Persistence on SQLite and PostgreSQL: migrations, outbox, accounts, file store."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from core import accounts, outbox
from core.db import get_engine
from core.errors import Forbidden, Throttled
from core.filestore import FileStore
from core.models import Base, Intervenant, OutboxMessage


def test_migrations_match_the_models(any_db) -> None:  # type: ignore[no-untyped-def]
    with get_engine().connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], "models changed: add a revision in core/migrations/versions/"


def test_sqlite_runs_in_wal_with_foreign_keys(db) -> None:  # type: ignore[no-untyped-def]
    with get_engine().connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_outbox_dedupes_leases_and_retries(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        assert outbox.enqueue(s, channel="telegram", recipient="1", kind="k", text="a", dedupe_key="x") is not None
        assert outbox.enqueue(s, channel="telegram", recipient="1", kind="k", text="a", dedupe_key="x") is None
        outbox.enqueue(s, channel="telegram", recipient="2", kind="k", text="b")
    with any_db() as s:
        first = outbox.claim(s, "telegram")
        assert [m.text for m in first] == ["a", "b"]
    with any_db() as s:
        assert outbox.claim(s, "telegram") == []  # leased to the first claimer
        outbox.mark_sent(s, first[0].id)
        outbox.mark_failed(s, first[1].id, "429", retry_after=0)
    with any_db() as s:
        again = outbox.claim(s, "telegram")
        assert [m.text for m in again] == ["b"]
        assert s.get(OutboxMessage, first[0].id).status == "sent"
        assert s.get(OutboxMessage, first[1].id).attempts == 1


def test_login_throttle_spares_a_chat_that_never_failed(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        s.add(
            Intervenant(
                numero="N1", last_name="X", password_hash=accounts.hash_password("secret-1"), intake_token="tok1"
            )
        )
    for attempt in range(5):
        with any_db() as s, pytest.raises(Forbidden):
            accounts.authenticate_intervenant(s, "N1", "wrong", origin=f"chat:{attempt}")
    with any_db() as s, pytest.raises(Throttled, match="Trop de tentatives"):
        accounts.authenticate_intervenant(s, "N1", "secret-1", origin="chat:4")  # a chat that failed waits
    with any_db() as s:  # the owner's own chat never failed: it gets through
        assert accounts.authenticate_intervenant(s, "N1", "secret-1", origin="chat:99").numero == "N1"
    with any_db() as s:  # another identifier from a fresh chat is not throttled
        s.add(
            Intervenant(
                numero="N2", last_name="Y", password_hash=accounts.hash_password("secret-2"), intake_token="tok2"
            )
        )
    with any_db() as s:
        assert accounts.authenticate_intervenant(s, "n2", "secret-2", origin="chat:100").numero == "N2"


def test_first_login_forces_a_new_code(any_db) -> None:  # type: ignore[no-untyped-def]
    from core.errors import InvalidInput

    with any_db() as s:
        person = Intervenant(
            numero="N3", last_name="Z", password_hash=accounts.hash_password("convoc123"), intake_token="tok3"
        )
        s.add(person)
        s.flush()
        with pytest.raises(InvalidInput):
            accounts.change_password(s, person, "1234", "test")
        with pytest.raises(InvalidInput, match="différent"):
            accounts.change_password(s, person, "convoc123", "test")
        accounts.change_password(s, person, "Nouveau2026", "test")
        accounts.link_telegram(s, person, 555)
    with any_db() as s:
        person = s.scalar(select(Intervenant).where(Intervenant.numero == "N3"))
        assert not person.must_change_password and person.telegram_user_id == 555
        assert accounts.person_for_telegram(s, 555).id == person.id


def test_filestore_is_content_addressed_and_idempotent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = FileStore(tmp_path)
    key = store.put(b"receipt")
    assert store.put(b"receipt") == key and store.get(key) == b"receipt"
    assert not list(tmp_path.rglob(".tmp-*"))
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


def test_throttle_window_expires(any_db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.models import LoginAttempt, utcnow

    with any_db() as s:
        for _ in range(5):
            s.add(LoginAttempt(key="origin:chat:1", at=utcnow() - timedelta(hours=2)))
        s.add(
            Intervenant(
                numero="N4", last_name="W", password_hash=accounts.hash_password("pw-12345"), intake_token="tok4"
            )
        )
    with any_db() as s:
        assert accounts.authenticate_intervenant(s, "N4", "pw-12345", origin="chat:1").numero == "N4"


@pytest.mark.postgres
def test_processes_started_together_migrate_once(pg_url: str) -> None:
    """Several roles starting at once on an empty PostgreSQL database: one migrates, the others wait."""
    env = {**os.environ, "IMAGIN_DATABASE_URL": pg_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "from core.db import init_db; init_db()"], env=env, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors


def test_receipt_lines_migration_backfills_existing_receipts(any_db) -> None:  # type: ignore[no-untyped-def]
    """Receipts stored before 0003 get their line from their reading, on SQLite and PostgreSQL."""
    from alembic import command

    from core import receipts
    from core.demo import seed_demo
    from core.migrations import alembic_config
    from core.models import Receipt, ReceiptLine
    from tests.core.helpers import efm_by_mission
    from tests.dec.factory import receipt_png

    with any_db() as s:
        seed_demo(s)
        efm = efm_by_mission(s, "DEMO-101")
        read, _ = receipts.add_receipt(s, efm, receipt_png(), "lu.png", source="chat", actor="t")
        pending, _ = receipts.add_receipt(s, efm, receipt_png("TAXI 12,00"), "attente.png", source="chat", actor="t")
        s.info.pop("ocr_after_commit", None)
        ids = (read.id, pending.id)

    def migrate(target: str, down: bool = False) -> None:
        with get_engine().begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, target)

    migrate("0002", down=True)
    with get_engine().begin() as conn:
        conn.execute(
            text("UPDATE receipts SET ocr_status = 'done', ocr_total = 80.00, ocr_date = :d WHERE id = :id"),
            {"d": "2026-06-02", "id": ids[0]},
        )
    migrate("head")
    with any_db() as s:
        lines = {ln.receipt_id: ln for ln in s.scalars(select(ReceiptLine))}
        assert lines[ids[0]].state == "proposed" and str(lines[ids[0]].amount_read) == "80.00"
        assert str(lines[ids[0]].spent_on) == "2026-06-02"
        assert lines[ids[1]].state == "pending" and lines[ids[1]].amount_read is None
        assert s.get(Receipt, ids[0]).original_key is None
