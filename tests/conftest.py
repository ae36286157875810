"""Shared fixtures: an isolated data dir and database per test, and the real PostgreSQL / Redis.

Tests that need PostgreSQL, Redis, Dovecot, Chromium or openssl skip with a visible reason when it is
absent, and fail instead when ``IMAGIN_REQUIRE_SERVICES=1`` (CI sets it): they all go through
``service_missing``. ./dev installs the programs (APT_PACKAGES); the servers are the machine's.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

PG_ADMIN_URL = os.environ.get("IMAGIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("IMAGIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("IMAGIN_REQUIRE_SERVICES") == "1"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def service_missing(what: str) -> NoReturn:
    """Skip (or fail when services are required) because ``what`` is not installed or not reachable."""
    message = f"{what} is not installed or not reachable on this machine"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and IMAGIN_REQUIRE_SERVICES=1")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def imagin_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data dir and SQLite database, and fresh settings."""
    from core.settings import reset_settings

    data_dir = tmp_path / "var"
    for key in list(os.environ):
        if key.startswith("IMAGIN_") and key not in {
            "IMAGIN_REQUIRE_SERVICES",
            "IMAGIN_TEST_PG_URL",
            "IMAGIN_TEST_REDIS_URL",
        }:
            monkeypatch.delenv(key)
    monkeypatch.setenv("IMAGIN_DATA_DIR", str(data_dir))
    # Cheap argon2 parameters for tests only (production keeps the defaults).
    monkeypatch.setenv("IMAGIN_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("IMAGIN_PASSWORD_HASH_MEMORY_KIB", "1024")
    reset_settings()
    yield data_dir
    reset_settings()


@pytest.fixture
def db(imagin_env: Path):  # type: ignore[no-untyped-def]
    """A migrated database; yields ``core.db.session_scope``."""
    from core.db import init_db, session_scope

    init_db()
    return session_scope


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema on the project machine's server, as a database URL."""
    if not _port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL (127.0.0.1:5432)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        service_missing(f"PostgreSQL ({exc.orig})")
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg_db(pg_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Like ``db`` but on PostgreSQL."""
    from core.db import init_db, session_scope
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_DATABASE_URL", pg_url)
    reset_settings()
    init_db()
    return session_scope


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The project machine's Redis (database 15, flushed before and after)."""
    if not _port_open("127.0.0.1", 6379):
        service_missing("Redis (127.0.0.1:6379)")
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()
    client.close()


@pytest.fixture
def demo(db):  # type: ignore[no-untyped-def]
    """The demo data seeded; returns the printed codes."""
    from core.demo import seed_demo

    with db() as session:
        return seed_demo(session)
