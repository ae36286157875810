"""Accounts: password hashing (argon2), throttled login, the chat's login flow (first-login password change),
Telegram links."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core import audit, outbox
from core.errors import Forbidden, InvalidInput, Throttled
from core.french import format_timestamp, format_wait
from core.models import Intervenant, LoginAttempt, StaffUser, utcnow
from core.settings import get_settings

MIN_CODE_LENGTH = 8
FIRST_LOGIN_SECONDS = 15 * 60  # time allowed to choose the personal code once the password was accepted


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def _current_hasher() -> PasswordHasher:
    s = get_settings()
    return _hasher(s.password_hash_time_cost, s.password_hash_memory_kib)


def hash_password(password: str) -> str:
    """An argon2id hash (parameters from the settings; verification reads them from the hash)."""
    return _current_hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _current_hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_login_code() -> str:
    """A random initial password like those printed on convocations (easy to type on a phone)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def new_intake_token() -> str:
    return secrets.token_hex(5)


# ------------------------------------------------------------------------------------------ throttle
#
# Failed logins are counted per origin (a chat, a client address) and per identifier. Each count buys
# a growing delay (none for the first ``throttle_free_failures``, then ``throttle_base_delay_seconds``
# doubling up to ``throttle_max_delay_seconds``): never a lock. An origin waits for its own delay; the
# identifier's delay applies only to origins that have failed themselves, so whoever hammers an
# identifier cannot keep its owner, typing the right password from a chat of their own, out of it.

_ATTEMPT_LOCK = threading.Lock()  # check-and-record is atomic within a process (PostgreSQL: advisory lock too)


@dataclass(frozen=True)
class _Count:
    failures: int
    last: datetime | None


def delay_after(failures: int) -> float:
    """Seconds to wait after ``failures`` failed logins (of one origin, or on one identifier)."""
    s = get_settings()
    if failures < s.throttle_free_failures:
        return 0.0
    return min(s.throttle_base_delay_seconds * 2 ** (failures - s.throttle_free_failures), s.throttle_max_delay_seconds)


def max_attempts_within(seconds: float, origins: int) -> int:
    """The stated limit: how many passwords ``origins`` chats (or addresses) may have checked against one
    identifier within ``seconds``: each origin's first try, then the identifier's delays one after the other."""
    allowed, elapsed = origins, 0.0
    while True:
        wait = delay_after(allowed)
        if elapsed + wait > seconds:
            return allowed
        elapsed += wait
        allowed += 1


def _count(session: Session, key: str) -> _Count:
    since = utcnow() - timedelta(seconds=get_settings().throttle_window_seconds)
    failures, last = session.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(LoginAttempt.key == key, LoginAttempt.at >= since)
    ).one()
    return _Count(failures, last)


def _remaining(count: _Count) -> float:
    if count.last is None:
        return 0.0
    return (count.last + timedelta(seconds=delay_after(count.failures)) - utcnow()).total_seconds()


def _keys(identifier: str, origin: str) -> tuple[str, str]:
    return f"origin:{origin}", f"id:{identifier.strip().lower()}"[:200]


def _lock_key(session: Session, key: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def _begin_attempt(session: Session, identifier: str, origin: str) -> list[int]:
    """Refuse the attempt if its origin or identifier must still wait; else record it as a failure until the
    password is found right (so concurrent attempts count it). Returns the recorded rows' ids."""
    origin_key, id_key = _keys(identifier, origin)
    with _ATTEMPT_LOCK:
        _lock_key(session, id_key)
        by_origin = _count(session, origin_key)
        wait = _remaining(by_origin)
        if wait > 0:
            session.rollback()
            raise Throttled(
                f"Trop de tentatives de connexion depuis cette discussion. Réessayez dans {format_wait(wait)} "
                "(le délai s'allonge à chaque erreur)."
            )
        if by_origin.failures:  # an origin that never failed is not held by the identifier's delay
            wait = _remaining(_count(session, id_key))
            if wait > 0:
                session.rollback()
                raise Throttled(
                    "Trop de tentatives de connexion sur cet identifiant. "
                    f"Réessayez dans {format_wait(wait)} (le délai s'allonge à chaque erreur)."
                )
        now = utcnow()
        rows = [LoginAttempt(key=origin_key, at=now), LoginAttempt(key=id_key, at=now)]
        session.add_all(rows)
        session.commit()
    return [r.id for r in rows]


def _succeeded(session: Session, attempt_ids: list[int]) -> None:
    """The password was right: the attempt is no failure (earlier failures stay, to expire by themselves)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.id.in_(attempt_ids)))


def _failed(session: Session, person: Intervenant | StaffUser | None) -> None:
    """A wrong password: the owner of the identifier is told (at most once per window), then it is final."""
    if person is not None:
        _tell_owner_of_failure(session, person)
    session.commit()


def _tell_owner_of_failure(session: Session, person: Intervenant | StaffUser) -> None:
    s = get_settings()
    now = utcnow()
    window = int(now.timestamp() // s.throttle_window_seconds)
    text = (
        f"Une connexion à votre compte Imag'in a échoué le {format_timestamp(now)} : mot de passe incorrect. "
        "Si c'était vous, vous pouvez réessayer. Sinon, rien n'est à faire : votre compte reste protégé et "
        "vous pouvez toujours vous connecter avec votre code. En cas de doute, prévenez la DEC."
    )
    subject = "Imag'in : tentative de connexion à votre compte"
    dedupe = f"login_failed:{type(person).__tablename__}:{person.id}:{window}"
    if isinstance(person, Intervenant):
        outbox.notify_intervenant(session, person, kind="login_failed", text=text, subject=subject, dedupe_key=dedupe)
        return
    if person.telegram_user_id is not None:
        outbox.enqueue(
            session,
            channel="telegram",
            recipient=str(person.telegram_user_id),
            kind="login_failed",
            text=text,
            dedupe_key=f"{dedupe}:tg",
        )
    if person.email:
        outbox.enqueue(
            session,
            channel="email",
            recipient=person.email,
            kind="login_failed",
            text=text,
            subject=subject,
            dedupe_key=f"{dedupe}:mail",
        )


def _find_intervenant(session: Session, identifier: str) -> Intervenant | None:
    ident = identifier.strip()
    return session.scalar(
        select(Intervenant).where(or_(func.upper(Intervenant.numero) == ident.upper(), Intervenant.imagin_id == ident))
    )


def _find_staff(session: Session, login: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(func.lower(StaffUser.login) == login.strip().lower()))


def authenticate_intervenant(session: Session, identifier: str, password: str, *, origin: str) -> Intervenant:
    """Check an identifier (Numéro Intervenant or identifiant Imag'in) and password.

    ``origin`` is where the attempt comes from (e.g. ``chat:123``); see the throttle above.
    """
    return cast(Intervenant, authenticate(session, identifier, password, origin=origin, staff=False))


def authenticate_staff(session: Session, login: str, password: str, *, origin: str) -> StaffUser:
    """Check a staff login (DEC gestionnaire or chef de centre); ``origin`` e.g. ``ip:192.0.2.7``."""
    return cast(StaffUser, authenticate(session, login, password, origin=origin, intervenants=False))


@dataclass(frozen=True)
class PendingLogin:
    """A login attempt let through by the throttle, its password not checked yet (``password_matches``)."""

    attempt_ids: list[int]
    kind: str | None  # "intervenant" | "staff" | None (nobody has this identifier, or the account is disabled)
    person_id: int | None
    password_hash: str | None
    for_staff_only: bool


def begin_login(
    session: Session, identifier: str, *, origin: str, staff: bool = True, intervenants: bool = True
) -> PendingLogin:
    """Pass the throttle for this origin and identifier (or Throttled) and find whose identifier it is."""
    attempt = _begin_attempt(session, identifier, origin)
    person: Intervenant | StaffUser | None = _find_staff(session, identifier) if staff else None
    if person is None and intervenants:
        person = _find_intervenant(session, identifier)
    if person is None:
        return PendingLogin(attempt, None, None, None, not intervenants)
    kind = "staff" if isinstance(person, StaffUser) else "intervenant"
    usable = not isinstance(person, StaffUser) or person.active
    return PendingLogin(attempt, kind, person.id, person.password_hash if usable else None, not intervenants)


def password_matches(pending: PendingLogin, password: str) -> bool:
    """The (slow, argon2) password check: no database, so a caller may run it outside its database thread."""
    return pending.password_hash is not None and verify_password(pending.password_hash, password.strip())


def finish_login(session: Session, pending: PendingLogin, password_ok: bool) -> Intervenant | StaffUser:
    """Record the attempt's outcome (a failure tells the identifier's owner) and return the person, or Forbidden."""
    person: Intervenant | StaffUser | None = None
    if pending.person_id is not None:
        staff, pid = pending.kind == "staff", pending.person_id
        person = session.get(StaffUser, pid) if staff else session.get(Intervenant, pid)
    if person is None or not password_ok:
        _failed(session, person)
        raise Forbidden(
            "Identifiant ou mot de passe incorrect."
            if pending.for_staff_only
            else "Identifiant ou mot de passe incorrect. Vérifiez les informations de votre convocation."
        )
    _succeeded(session, pending.attempt_ids)
    return person


def authenticate(
    session: Session,
    identifier: str,
    password: str,
    *,
    origin: str,
    staff: bool = True,
    intervenants: bool = True,
) -> Intervenant | StaffUser:
    """Check an identifier (a staff login, else a Numéro Intervenant or identifiant Imag'in) and password,
    throttled per origin and per identifier. Commits the attempt's record either way."""
    pending = begin_login(session, identifier, origin=origin, staff=staff, intervenants=intervenants)
    return finish_login(session, pending, password_matches(pending, password))


# ------------------------------------------------------------------------------------------ chat login


@dataclass(frozen=True)
class ChatLogin:
    """Where a chat's login stands after the convocation password: linked, or a new code to choose first."""

    kind: str  # "intervenant" | "staff"
    person_id: int
    must_change: bool


def check_identifier(text: str) -> str:
    """An identifier as typed in the chat, or InvalidInput: a greeting or a sentence is not taken for one."""
    ident = text.strip()
    example = "Exemple attendu : N123456 (tel qu'imprimé sur votre convocation)."
    if not ident or len(ident) > 64 or any(c.isspace() for c in ident):
        raise InvalidInput(f"Identifiant invalide. {example}")
    if not any(c.isdigit() or c in "._-@" for c in ident):
        raise InvalidInput(
            f"« {ident[:20]} » n'est pas un identifiant. Pour relier votre compte, envoyez l'identifiant figurant "
            f"sur votre convocation (Numéro Intervenant ou identifiant Imag'in). {example}"
        )
    return ident


def chat_sign_in(session: Session, identifier: str, password: str, *, chat_id: int, telegram_user_id: int) -> ChatLogin:
    """The chat's login in one call (``begin_chat_sign_in``, ``password_matches``, ``finish_chat_sign_in``)."""
    pending = begin_chat_sign_in(session, identifier, chat_id=chat_id)
    return finish_chat_sign_in(session, pending, password_matches(pending, password), telegram_user_id=telegram_user_id)


def begin_chat_sign_in(session: Session, identifier: str, *, chat_id: int) -> PendingLogin:
    """The chat's login, first step: an identifier (staff login or intervenant's), through the chat's throttle."""
    return begin_login(session, check_identifier(identifier), origin=f"chat:{chat_id}")


def finish_chat_sign_in(
    session: Session, pending: PendingLogin, password_ok: bool, *, telegram_user_id: int
) -> ChatLogin:
    """The chat's login, last step: linked at once, unless the convocation password must first be replaced by a
    personal code (``finish_first_login``)."""
    person = finish_login(session, pending, password_ok)
    kind = "staff" if isinstance(person, StaffUser) else "intervenant"
    if not person.must_change_password:
        link_telegram(session, person, telegram_user_id)
    return ChatLogin(kind, person.id, person.must_change_password)


def finish_first_login(
    session: Session, login: ChatLogin, code: str, telegram_user_id: int, *, password_accepted_at: float
) -> None:
    """First login: the personal code replaces the convocation password, then the chat is linked.

    Forbidden when the convocation password was accepted more than ``FIRST_LOGIN_SECONDS`` ago (start again);
    InvalidInput when the code is not acceptable (ask again)."""
    if time.time() - password_accepted_at > FIRST_LOGIN_SECONDS:
        raise Forbidden("⏱ Délai dépassé : recommencez avec votre identifiant.")
    person: Intervenant | StaffUser | None = (
        session.get(StaffUser, login.person_id) if login.kind == "staff" else session.get(Intervenant, login.person_id)
    )
    if person is None:
        raise Forbidden("Compte introuvable : recommencez avec /start.")
    change_password(session, person, code, actor=f"{login.kind}:{login.person_id}")
    link_telegram(session, person, telegram_user_id)


def check_new_code(code: str) -> str:
    """Validate a new personal code; returns it stripped."""
    code = code.strip()
    if len(code) < MIN_CODE_LENGTH:
        raise InvalidInput(
            f"Code trop court : au moins {MIN_CODE_LENGTH} caractères, avec des lettres et des chiffres "
            f"({len(code)} reçu{'s' if len(code) > 1 else ''}). Exemple : Jury2026bac"
        )
    if not any(c.isdigit() for c in code) or not any(c.isalpha() for c in code):
        raise InvalidInput("Code trop simple : mélangez des lettres et des chiffres. Exemple : Jury2026bac")
    return code


def change_password(session: Session, person: Intervenant | StaffUser, new_code: str, actor: str) -> None:
    """Replace the password (first login forces it) with a new personal code, stored hashed."""
    code = check_new_code(new_code)
    if verify_password(person.password_hash, code):
        raise InvalidInput("Le nouveau code doit être différent du mot de passe de la convocation.")
    person.password_hash = hash_password(code)
    person.must_change_password = False
    audit.record(session, actor, type(person).__tablename__, person.id, "password_changed")


def link_telegram(session: Session, person: Intervenant | StaffUser, telegram_user_id: int) -> None:
    """Link a Telegram account to a person; a Telegram account is linked to one person at most, and a person
    to one Telegram account: the chat linked before is told it no longer is."""
    for other in _linked_to(session, telegram_user_id):
        if other is not person:
            other.telegram_user_id = None
    previous = person.telegram_user_id
    if previous is not None and previous != telegram_user_id:
        session.flush()  # the unique telegram_user_id moves: free it before it is taken again
        outbox.enqueue(
            session,
            channel="telegram",
            recipient=str(previous),
            kind="telegram_relinked",
            text=(
                f"Votre compte Imag'in a été relié à un autre compte Telegram le {format_timestamp(utcnow())} : "
                "cette discussion n'y a plus accès. Si ce n'est pas vous, envoyez /start pour le relier de "
                "nouveau et prévenez la DEC."
            ),
        )
    person.telegram_user_id = telegram_user_id
    audit.record(session, f"telegram:{telegram_user_id}", type(person).__tablename__, person.id, "telegram_linked")


def unlink_telegram(session: Session, telegram_user_id: int) -> None:
    for person in _linked_to(session, telegram_user_id):
        person.telegram_user_id = None
        audit.record(
            session, f"telegram:{telegram_user_id}", type(person).__tablename__, person.id, "telegram_unlinked"
        )


def _linked_to(session: Session, telegram_user_id: int) -> list[Intervenant | StaffUser]:
    people: list[Intervenant | StaffUser] = []
    people += session.scalars(select(Intervenant).where(Intervenant.telegram_user_id == telegram_user_id))
    people += session.scalars(select(StaffUser).where(StaffUser.telegram_user_id == telegram_user_id))
    return people


def person_for_telegram(session: Session, telegram_user_id: int) -> Intervenant | StaffUser | None:
    """The intervenant or staff user linked to this Telegram account, if any."""
    person = session.scalar(select(Intervenant).where(Intervenant.telegram_user_id == telegram_user_id))
    if person is not None:
        return person
    return session.scalar(select(StaffUser).where(StaffUser.telegram_user_id == telegram_user_id))
