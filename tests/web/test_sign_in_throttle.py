"""The console's sign-in throttle, through the real app: an address that keeps failing waits (growing delays),
the account's owner from another address signs in at once, and is told of the failed attempts by e-mail."""

from __future__ import annotations

from sqlalchemy import select
from starlette.testclient import TestClient

from core.models import OutboxMessage, StaffUser
from tests.web.conftest import csrf_of, login


def test_an_address_hammering_an_account_does_not_lock_its_owner_out(console) -> None:  # type: ignore[no-untyped-def]
    from web.app import create_app

    with console.db() as s:
        s.scalar(select(StaffUser).where(StaffUser.login == "dec.demo")).email = "dec.demo@example.org"
    attacker = TestClient(create_app(), follow_redirects=False, client=("203.0.113.66", 40000))
    token = csrf_of(attacker.get("/connexion").text)
    codes = []
    for _ in range(6):
        r = attacker.post("/connexion", data={"csrf": token, "identifiant": "dec.demo", "mot_de_passe": "mauvais"})
        codes.append(r.status_code)
    assert codes == [401, 401, 401, 429, 429, 429]
    assert "Réessayez dans 2 secondes" in r.text
    r = attacker.post(
        "/connexion", data={"csrf": token, "identifiant": "dec.demo", "mot_de_passe": console.password("dec.demo")}
    )
    assert r.status_code == 429  # this address waits, even with the right password
    owner = TestClient(create_app(), follow_redirects=False, client=("198.51.100.7", 40001))
    login(owner, "dec.demo", console.password("dec.demo"))  # from their own address: at once
    with console.db() as s:
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "login_failed")).all()
    assert [m.recipient for m in told] == ["dec.demo@example.org"]  # once, not three times
    assert all("203.0.113.66" not in m.text for m in told)
