"""Throttled login (growing delays per origin and per identifier, never a lock-out of the owner), the owner
told of failed attempts, the chat's login rules and relinking, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import accounts
from core.errors import Forbidden, InvalidInput, Throttled
from core.models import Intervenant, IntervenantEmail, LoginAttempt, OutboxMessage, StaffRole, StaffUser, utcnow


def _add_person(session, numero: str = "N1", password: str = "secret-1", telegram: int | None = None) -> None:  # type: ignore[no-untyped-def]
    person = Intervenant(
        numero=numero,
        last_name="X",
        password_hash=accounts.hash_password(password),
        intake_token=f"tok-{numero}",
        must_change_password=False,
        telegram_user_id=telegram,
    )
    person.emails.append(IntervenantEmail(address=f"{numero.lower()}@example.org"))
    session.add(person)


def _fail(any_db, identifier: str, origin: str) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s, pytest.raises(Forbidden):
        accounts.authenticate_intervenant(s, identifier, "wrong", origin=origin)


def _age_failures(any_db, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Make every recorded failure `seconds` older (time passing, without sleeping)."""
    with any_db() as s:
        for attempt in s.scalars(select(LoginAttempt)):
            attempt.at -= timedelta(seconds=seconds)


def test_hammering_an_identifier_never_locks_its_owner_out(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        _add_person(s)
    for _ in range(12):  # from one chat, then from many
        try:
            _fail(any_db, "N1", "chat:666")
        except Throttled:  # pytest.raises(Forbidden) does not catch it
            _age_failures(any_db, 400)
    for chat in range(20):
        _fail(any_db, "N1", f"chat:{chat}")
    with any_db() as s, pytest.raises(Throttled, match="sur cet identifiant"):
        accounts.authenticate_intervenant(s, "N1", "secret-1", origin="chat:3")  # a failed chat must wait
    with any_db() as s:  # the owner, from a chat that never failed, gets through at once
        assert accounts.authenticate_intervenant(s, "n1", "secret-1", origin="chat:owner").numero == "N1"


def test_delays_grow_with_each_failure_and_expire(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        _add_person(s)
    for _ in range(3):  # the first failures cost nothing
        _fail(any_db, "N1", "chat:1")
    waits = []
    for _ in range(3):
        with any_db() as s, pytest.raises(Throttled) as info:
            accounts.authenticate_intervenant(s, "N1", "secret-1", origin="chat:1")
        waits.append(info.value.message.split("Réessayez dans ", 1)[1].split(" (", 1)[0])
        _age_failures(any_db, accounts.delay_after(3 + len(waits) - 1))
        _fail(any_db, "N1", "chat:1")
    assert waits == ["2 secondes", "4 secondes", "8 secondes"]
    _age_failures(any_db, 3600)  # past the window: forgotten
    with any_db() as s:
        assert accounts.authenticate_intervenant(s, "N1", "secret-1", origin="chat:1").numero == "N1"


def test_delays_stop_growing_at_the_cap() -> None:
    assert [accounts.delay_after(n) for n in range(5)] == [0, 0, 0, 2, 4]
    assert accounts.delay_after(40) == 300


def test_the_stated_limit_holds_against_many_chats(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Attackers retrying every second from 5 chats for 5 simulated minutes get no more checks than stated."""
    any_db = db
    with any_db() as s:
        _add_person(s)
    clock = [utcnow()]
    monkeypatch.setattr(accounts, "utcnow", lambda: clock[0])
    checked = 0
    for _ in range(300):
        for chat in range(5):
            try:
                _fail(any_db, "N1", f"chat:{chat}")
                checked += 1
            except Throttled:
                pass
        clock[0] += timedelta(seconds=1)
    limit = accounts.max_attempts_within(300, origins=5)
    assert limit - 3 <= checked <= limit
    assert checked < 20


def test_the_owner_is_told_of_failed_attempts_once_per_window(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        _add_person(s, telegram=4242)
        s.add(
            StaffUser(
                login="dec.x",
                full_name="DEC X",
                email="dec.x@example.org",
                role=StaffRole.GESTIONNAIRE,
                password_hash=accounts.hash_password("pw-dec-123"),
            )
        )
    _fail(any_db, "N1", "chat:1")
    _fail(any_db, "N1", "chat:2")
    with any_db() as s, pytest.raises(Forbidden):
        accounts.authenticate_staff(s, "dec.x", "wrong", origin="ip:192.0.2.1")
    _fail(any_db, "N999", "chat:3")  # nobody's identifier: nobody to tell
    with any_db() as s:
        rows = s.execute(
            select(OutboxMessage.channel, OutboxMessage.recipient).where(OutboxMessage.kind == "login_failed")
        ).all()
        text = s.scalar(select(OutboxMessage.text).where(OutboxMessage.kind == "login_failed").limit(1))
    assert sorted(rows) == [("email", "dec.x@example.org"), ("email", "n1@example.org"), ("telegram", "4242")]
    assert "mot de passe incorrect" in text and "chat:" not in text


def test_console_sign_in_is_throttled_per_address_not_per_account(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        s.add(
            StaffUser(
                login="dec.y",
                full_name="DEC Y",
                role=StaffRole.GESTIONNAIRE,
                password_hash=accounts.hash_password("pw-dec-456"),
            )
        )
    failures = 0
    while failures < 6:
        try:
            with any_db() as s, pytest.raises(Forbidden):
                accounts.authenticate_staff(s, "dec.y", "wrong", origin="ip:203.0.113.9")
            failures += 1
        except Throttled:
            _age_failures(any_db, 400)
    with any_db() as s, pytest.raises(Throttled):
        accounts.authenticate_staff(s, "dec.y", "pw-dec-456", origin="ip:203.0.113.9")
    with any_db() as s:
        assert accounts.authenticate_staff(s, "dec.y", "pw-dec-456", origin="ip:198.51.100.2").login == "dec.y"


def test_new_codes_and_identifiers_are_judged_with_the_right_words() -> None:
    with pytest.raises(InvalidInput, match="trop court"):
        accounts.check_new_code("abc")
    with pytest.raises(InvalidInput, match="trop simple"):
        accounts.check_new_code("abcdefghij")
    assert accounts.check_new_code(" Jury2026bac ") == "Jury2026bac"
    with pytest.raises(InvalidInput, match="« bonjour » n'est pas un identifiant"):
        accounts.check_identifier("bonjour")
    with pytest.raises(InvalidInput, match="Identifiant invalide"):
        accounts.check_identifier("N 123")
    assert [accounts.check_identifier(t) for t in ("N123456", "dec.demo", "IMG-1001")] == [
        "N123456",
        "dec.demo",
        "IMG-1001",
    ]


def test_relinking_from_another_chat_tells_the_old_chat(any_db) -> None:  # type: ignore[no-untyped-def]
    with any_db() as s:
        _add_person(s, telegram=111)
    with any_db() as s:
        person = s.scalar(select(Intervenant).where(Intervenant.numero == "N1"))
        accounts.link_telegram(s, person, 222)
    with any_db() as s:
        assert s.scalar(select(Intervenant.telegram_user_id)) == 222
        notice = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "telegram_relinked"))
        assert notice.recipient == "111" and "relié à un autre compte Telegram" in notice.text
