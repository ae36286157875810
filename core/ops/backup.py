"""``imagin backup``: a consistent copy of the SQLite database and of the file stores.

The database is copied first with SQLite's online backup API (a consistent snapshot while the service
keeps running), then the content-addressed stores (receipts, raw mail). Stored files are never changed
in place, only added (or removed by the purge), so every file the snapshot refers to is in the copy;
the manifest lists any that is not (a purge ran in between). PostgreSQL is backed up with ``pg_dump``:
the command is given, and the file stores are still copied.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import make_url

from core.settings import get_settings

STORES = ("receipts", "mail")
DB_NAME = "imagin.sqlite"


@dataclass
class BackupReport:
    """What a backup contains; written as ``manifest.json`` at its root."""

    path: str
    created_at: str
    database: str  # "sqlite" or the command to run for another engine
    files: dict[str, int] = field(default_factory=dict)  # store -> number of files copied
    bytes: int = 0
    missing: list[str] = field(default_factory=list)  # storage keys referenced but absent
    pg_dump: str | None = None


def pg_dump_command(url: str, target: Path) -> str:
    """The ``pg_dump`` command for a SQLAlchemy PostgreSQL URL (password left out: use ~/.pgpass)."""
    parsed = make_url(url)._replace(drivername="postgresql", password=None)
    libpq = parsed.render_as_string(hide_password=False)
    parts = urlsplit(libpq)
    libpq = urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
    return f"pg_dump --format=custom --no-owner --file={target / 'imagin.pgdump'} '{libpq}'"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("in-memory SQLite database: nothing to back up")
    return Path(database)


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API (consistent, readers/writers not stopped)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)  # one step: a snapshot under one read transaction (WAL: writers go on)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()
    check = sqlite3.connect(target)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise RuntimeError(f"backup integrity check failed: {result}")


def _copy_store(source: Path, target: Path) -> tuple[int, int]:
    count = size = 0
    if not source.is_dir():
        return 0, 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".tmp-"):
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        count += 1
        size += path.stat().st_size
    return count, size


def _referenced_keys(db_file: Path) -> list[tuple[str, str]]:
    """(store, key) of every file the backed-up database refers to (purged rows excluded)."""
    conn = sqlite3.connect(db_file)
    try:
        rows = [("receipts", k) for (k,) in conn.execute("SELECT storage_key FROM receipts")]
        rows += [("mail", k) for (k,) in conn.execute("SELECT raw_key FROM inbound_mail")]
        return [(store, key) for store, key in rows if key and len(key) == 64]
    finally:
        conn.close()


def _store_path(root: Path, key: str) -> Path:
    return root / key[:2] / key[2:4] / key


def backup(target_dir: Path | None = None, *, as_tar: bool = False, now: datetime | None = None) -> BackupReport:
    """Back up the database (SQLite) and the file stores to ``target_dir/imagin-backup-<UTC time>``
    (or a ``.tar.gz`` of it); returns the report also written in ``manifest.json``."""
    settings = get_settings()
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = Path(target_dir or settings.backup_dir or settings.data_dir / "backups")
    folder = base / f"imagin-backup-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    url = settings.sqlalchemy_url
    report = BackupReport(path=str(folder), created_at=stamp, database="sqlite")
    if url.startswith("sqlite"):
        backup_sqlite(_sqlite_path(url), folder / DB_NAME)
    else:
        report.database = make_url(url).get_backend_name()
        report.pg_dump = pg_dump_command(url, folder) if report.database == "postgresql" else None
    for store in STORES:
        count, size = _copy_store(settings.data_dir / store, folder / store)
        report.files[store] = count
        report.bytes += size
    if report.database == "sqlite":
        report.missing = [
            f"{store}/{key}"
            for store, key in _referenced_keys(folder / DB_NAME)
            if not _store_path(folder / store, key).exists()
        ]
        report.bytes += (folder / DB_NAME).stat().st_size
    (folder / "manifest.json").write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    if as_tar:
        archive = folder.with_name(folder.name + ".tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname=folder.name)
        shutil.rmtree(folder)
        report.path = str(archive)
    return report
