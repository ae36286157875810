"""The console on a seeded database: two submitted dossiers (Caen, Alençon) and the demo accounts."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
from starlette.testclient import TestClient  # noqa: E402

from tests.dec.factory import submit_dossier  # noqa: E402


@dataclass
class Console:
    db: object  # core.db.session_scope
    codes: dict
    ids: dict[str, int]

    def password(self, login: str) -> str:
        for bucket in ("dec", "chefs_de_centre"):
            for row in self.codes[bucket]:
                if row["login"] == login:
                    return row["mot_de_passe"]
        raise KeyError(login)

    def client(self) -> TestClient:
        from web.app import create_app

        return TestClient(create_app(), follow_redirects=False)


def _console(db) -> Console:  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        codes = seed_demo(s)
        ids = {"caen": submit_dossier(s, "DEMO-101"), "alencon": submit_dossier(s, "DEMO-201", quantity=6)}
    return Console(db, codes, ids)


@pytest.fixture
def console(db) -> Iterator[Console]:  # type: ignore[no-untyped-def]
    """The console on SQLite."""
    yield _console(db)


@pytest.fixture
def console_any(any_db) -> Iterator[Console]:  # type: ignore[no-untyped-def]
    """The console on SQLite and on PostgreSQL."""
    yield _console(any_db)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: TestClient, name: str, password: str) -> str:
    """Sign in; returns the CSRF token of the new session."""
    page = client.get("/connexion")
    r = client.post(
        "/connexion",
        data={"csrf": csrf_of(page.text), "identifiant": name, "mot_de_passe": password, "suivant": "/file"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/file", r.text
    return csrf_of(client.get("/file").text)
