"""Staff accounts in the console: forced password change, sessions ended by it, the session key."""

from __future__ import annotations

import stat

import pytest

from tests.dec.factory import staff
from tests.web.conftest import csrf_of, login


def test_forced_password_change_ends_older_sessions(console) -> None:  # type: ignore[no-untyped-def]
    old_password = console.password("chef.0141274a")
    other = console.client()
    login(other, "chef.0141274a", old_password)
    with console.db() as s:
        staff(s, "chef.0141274a").must_change_password = True
    c = console.client()
    page = c.get("/connexion")
    r = c.post(
        "/connexion",
        data={
            "csrf": csrf_of(page.text),
            "identifiant": "chef.0141274a",
            "mot_de_passe": old_password,
            "suivant": "/file",
        },
    )
    assert r.status_code == 303
    r = c.get("/file")
    assert r.status_code == 303 and r.headers["location"] == "/mot-de-passe"
    token = csrf_of(c.get("/mot-de-passe").text)
    r = c.post(
        "/mot-de-passe",
        data={"csrf": token, "actuel": "faux", "nouveau": "Centre2026caen", "confirmation": "Centre2026caen"},
    )
    assert "Mot de passe actuel incorrect" in c.get(r.headers["location"]).text
    r = c.post(
        "/mot-de-passe", data={"csrf": token, "actuel": old_password, "nouveau": "court", "confirmation": "court"}
    )
    assert "Exemple : Jury2026bac" in c.get(r.headers["location"]).text
    r = c.post(
        "/mot-de-passe",
        data={"csrf": token, "actuel": old_password, "nouveau": "Centre2026caen", "confirmation": "Centre2026caen"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/file"
    assert c.get("/file").status_code == 200
    assert other.get("/file").status_code == 303  # signed in before the change: ended
    with console.db() as s:
        assert staff(s, "chef.0141274a").must_change_password is False
    fresh = console.client()
    login(fresh, "chef.0141274a", "Centre2026caen")


def test_disabled_account_loses_its_session(console) -> None:  # type: ignore[no-untyped-def]
    c = console.client()
    login(c, "dec.demo", console.password("dec.demo"))
    with console.db() as s:
        staff(s, "dec.demo").active = False
    assert c.get("/file").status_code == 303


def test_session_key_from_environment_or_kept_private(console, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from core.settings import get_settings, reset_settings
    from web.secret import web_secret

    first = web_secret()
    path = get_settings().data_dir / "web_secret"
    assert len(first) >= 32 and web_secret() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("IMAGIN_WEB_SECRET", "x" * 40)
    reset_settings()
    assert web_secret() == "x" * 40
