"""Backup, retention purge and personal data export, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from core.errors import NotFound
from core.filestore import mail_store, receipt_store
from core.models import (
    AuditEntry,
    Convocation,
    EtatDeFrais,
    InboundMail,
    Intervenant,
    LoginAttempt,
    MailAttachment,
    Receipt,
    utcnow,
)
from core.ops.backup import backup, pg_dump_command
from core.ops.privacy import PURGED, export_person, purge
from core.statuses import PartStatus
from tests.topology.conftest import pdf_bytes

OLD = timedelta(days=400)


def efms_of(session, numero: str) -> list[EtatDeFrais]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(EtatDeFrais)
            .join(Convocation)
            .join(Intervenant)
            .where(Intervenant.numero == numero)
            .order_by(EtatDeFrais.id)
        )
    )


def add_receipt(session, efm: EtatDeFrais, data: bytes, name: str, *, age: timedelta = timedelta(0)) -> Receipt:  # type: ignore[no-untyped-def]
    """A receipt row and its file (written directly: OCR queueing is not under test here)."""
    key = receipt_store().put(data)
    from core.filestore import sha256_hex

    r = Receipt(
        efm_id=efm.id,
        sha256=sha256_hex(data),
        original_name=name,
        detected_type="application/pdf",
        size=len(data),
        source="email",
        storage_key=key,
        created_at=utcnow() - age,
    )
    session.add(r)
    session.flush()
    return r


def add_mail(
    session,
    efm: EtatDeFrais | None,
    raw: bytes,
    attachment: bytes,
    *,
    state: str = "processed",  # type: ignore[no-untyped-def]
    age: timedelta = timedelta(0),
) -> InboundMail:
    store = mail_store()
    mail = InboundMail(
        message_id=f"<{len(raw)}.{id(raw)}@x>",
        content_sha256=store.put(raw),
        raw_key=store.put(raw),
        size=len(raw),
        source="smtp",
        state=state,
        received_at=utcnow() - age,
        efm_id=efm.id if efm else None,
        intervenant_id=efm.convocation.intervenant_id if efm else None,
    )
    mail.attachments.append(
        MailAttachment(
            position=1, filename="a.pdf", size=len(attachment), sha256=store.put(attachment), state="accepted"
        )
    )
    session.add(mail)
    session.flush()
    return mail


def close(session, efm: EtatDeFrais, *, age: timedelta = OLD) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(EtatDeFrais)
        .where(EtatDeFrais.id == efm.id)
        .values(pay_status=PartStatus.SENT_TO_PAYMENT, travel_status=PartStatus.REJECTED, updated_at=utcnow() - age)
    )


@pytest.fixture
def seeded(any_db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with any_db() as session:
        seed_demo(session)
    return any_db


def test_purge_deletes_only_closed_old_files_keeps_rows_and_audits(seeded):
    shared = pdf_bytes("Same bytes in two dossiers")
    with seeded() as s:
        closed_efm, open_efm, recent_closed = efms_of(s, "D1001")
        old = add_receipt(s, closed_efm, pdf_bytes("Hotel 80 EUR"), "hotel.pdf", age=OLD)
        old_shared = add_receipt(s, closed_efm, shared, "copie.pdf", age=OLD)
        live_shared = add_receipt(s, open_efm, shared, "copie.pdf", age=OLD)  # dossier still open
        fresh = add_receipt(s, recent_closed, pdf_bytes("Taxi 12 EUR"), "taxi.pdf", age=OLD)
        old_mail = add_mail(s, closed_efm, b"Subject: old\r\n\r\nraw", pdf_bytes("att old"), age=OLD)
        pending_mail = add_mail(
            s, None, b"Subject: waiting\r\n\r\nraw", pdf_bytes("att wait"), state="received", age=OLD
        )
        orphan_mail = add_mail(
            s, None, b"Subject: unknown\r\n\r\nraw", pdf_bytes("att unknown"), state="quarantined", age=OLD
        )
        ids = {
            n: r.id
            for n, r in [("old", old), ("old_shared", old_shared), ("live_shared", live_shared), ("fresh", fresh)]
        }
        keys = {n: r.storage_key for n, r in [("old", old), ("shared", old_shared), ("fresh", fresh)]}
        mail_keys = {"old": old_mail.raw_key, "pending": pending_mail.raw_key, "orphan": orphan_mail.raw_key}
        mail_ids = {"old": old_mail.id, "pending": pending_mail.id, "orphan": orphan_mail.id}
        close(s, closed_efm)
        close(s, recent_closed, age=timedelta(days=3))  # closed, but not for long enough

    dry = purge(seeded, retention_days=365, dry_run=True)
    assert (dry.receipts, dry.mails) == (2, 2)
    assert receipt_store().exists(keys["old"]) and mail_store().exists(mail_keys["old"])

    report = purge(seeded, retention_days=365)
    assert (report.receipts, report.mails) == (2, 2)
    store = receipt_store()
    assert not store.exists(keys["old"])
    assert store.exists(keys["shared"])  # still the file of a receipt in an open dossier
    assert store.exists(keys["fresh"])
    assert not mail_store().exists(mail_keys["old"]) and not mail_store().exists(mail_keys["orphan"])
    assert mail_store().exists(mail_keys["pending"])  # not processed yet: never purged
    with seeded() as s:
        got = {n: s.get(Receipt, i).storage_key for n, i in ids.items()}
        assert got == {"old": PURGED, "old_shared": PURGED, "live_shared": keys["shared"], "fresh": keys["fresh"]}
        assert s.get(InboundMail, mail_ids["pending"]).raw_key == mail_keys["pending"]
        assert s.get(InboundMail, mail_ids["old"]).raw_key == PURGED
        audited = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.in_(["receipt_purged", "mail_purged"]))
        )
        assert audited == 4
    again = purge(seeded, retention_days=365)
    assert (again.receipts, again.mails, again.files_deleted) == (0, 0, 0)


def test_purge_refuses_a_retention_below_one_day(db):
    with pytest.raises(ValueError):
        purge(db, retention_days=0)


def test_export_person_has_everything_about_them_and_nothing_secret(seeded, tmp_path: Path):
    with seeded() as s:
        efm = efms_of(s, "D1003")[0]
        receipt = add_receipt(s, efm, pdf_bytes("Repas 15 EUR"), "repas.pdf")
        mail = add_mail(s, efm, b"Subject: recu\r\n\r\nbonjour", pdf_bytes("piece"))
        other = efms_of(s, "D1001")[0]
        add_receipt(s, other, pdf_bytes("Not hers"), "autre.pdf")
        s.add_all([LoginAttempt(key="id:d1003", at=utcnow()), LoginAttempt(key="id:d1001", at=utcnow())])
        receipt_id, mail_id, efm_id = receipt.id, mail.id, efm.id
    target = tmp_path / "export.zip"
    with seeded() as s:
        export_person(s, "ines.leroy@example.org", target)
    with zipfile.ZipFile(target) as zf:
        data = json.loads(zf.read("personne.json"))
        names = set(zf.namelist())
        assert zf.read(f"justificatifs/{receipt_id}-repas.pdf") == pdf_bytes("Repas 15 EUR")
        assert zf.read(f"courriels/{mail_id}.eml").startswith(b"Subject: recu")
    assert data["personne"]["numero"] == "D1003"
    assert "password_hash" not in data["personne"] and "intake_token" not in data["personne"]
    assert [e["id"] for e in data["etats_de_frais"]] == [efm_id]
    assert [r["original_name"] for r in data["justificatifs"]] == ["repas.pdf"]
    assert data["courriels"][0]["pieces_jointes"][0]["filename"] == "a.pdf"
    assert any(a["entity"] == "etat_de_frais" and a["entity_id"] == efm_id for a in data["journal"])
    assert not any("autre" in n for n in names)
    assert [a["key"] for a in data["tentatives_connexion"]] == ["id:d1003"]
    with seeded() as s:
        assert (
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "personal_data_exported"))
            == 1
        )
        with pytest.raises(NotFound) as err:
            export_person(s, "N99999", tmp_path / "none.zip")
    assert "N99999" in err.value.message


def test_cli_commands_are_plugged(demo, tmp_path: Path):
    from cli.main import app

    runner = CliRunner()
    out = tmp_path / "d1002.zip"
    result = runner.invoke(app, ["export-person", "D1002", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(zipfile.ZipFile(out).read("personne.json"))["personne"]["numero"] == "D1002"
    result = runner.invoke(app, ["export-person", "inconnu@example.org"])
    assert result.exit_code == 1 and "Aucun intervenant" in result.output
    result = runner.invoke(app, ["purge", "--dry-run", "--days", "30"])
    assert result.exit_code == 0 and "seraient purgés" in result.output
    result = runner.invoke(app, ["backup", "--to", str(tmp_path / "bk"), "--tar"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "bk").glob("imagin-backup-*.tar.gz"))) == 1


def test_backup_is_a_consistent_copy_while_writes_go_on(demo, db, tmp_path: Path):
    with db() as s:
        efms = efms_of(s, "D1001")
        for i in range(20):
            add_receipt(s, efms[i % len(efms)], pdf_bytes(f"Receipt {i}"), f"r{i}.pdf")
    stop = threading.Event()

    def writer() -> None:  # keeps adding receipts (file first, then row) during the backup
        i = 100
        while not stop.is_set():
            with db() as s:
                add_receipt(s, efms_of(s, "D1002")[0], pdf_bytes(f"Live {i}"), f"live{i}.pdf")
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = backup(tmp_path / "backups")
    finally:
        stop.set()
        thread.join(30)
    folder = Path(report.path)
    assert report.missing == []
    conn = sqlite3.connect(folder / "imagin.sqlite")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        keys = [k for (k,) in conn.execute("SELECT storage_key FROM receipts")]
    finally:
        conn.close()
    assert len(keys) >= 20
    for key in keys:  # every file the copied database refers to is in the copied store, intact
        copied = folder / "receipts" / key[:2] / key[2:4] / key
        assert copied.read_bytes() == receipt_store().get(key)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["receipts"] >= len(set(keys)) and manifest["database"] == "sqlite"

    archive = backup(tmp_path / "backups", as_tar=True, now=utcnow().replace(year=2030))
    with tarfile.open(archive.path) as tar:
        members = tar.getnames()
    assert any(m.endswith("/imagin.sqlite") for m in members) and any(m.endswith("manifest.json") for m in members)


def test_postgresql_backup_gives_the_pg_dump_command_and_copies_files(pg_db, tmp_path: Path):
    report = backup(tmp_path / "pg")
    assert report.database == "postgresql"
    assert report.pg_dump is not None and report.pg_dump.startswith("pg_dump --format=custom")
    assert not (Path(report.path) / "imagin.sqlite").exists()
    cmd = pg_dump_command("postgresql+psycopg://imagin:s3cret@db.example:5432/imagin", tmp_path)
    assert "s3cret" not in cmd and "postgresql://imagin@db.example:5432/imagin" in cmd
