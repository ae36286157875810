"""Accounts: password hashing (argon2), login with throttling, first-login password change, Telegram links."""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.errors import Forbidden, InvalidInput, NotFound, Throttled
from core.models import Intervenant, LoginAttempt, StaffUser, utcnow
from core.settings import get_settings

MIN_CODE_LENGTH = 8


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


def _check_throttle(session: Session, keys: list[str]) -> None:
    s = get_settings()
    since = utcnow() - timedelta(seconds=s.throttle_window_seconds)
    for key in keys:
        count = session.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.at >= since)
        )
        if count >= s.throttle_attempts:
            minutes = s.throttle_window_seconds // 60
            raise Throttled(f"Trop de tentatives de connexion. Par sécurité, réessayez dans {minutes} minutes.")


def _fail(session: Session, keys: list[str]) -> None:
    now = utcnow()
    for key in keys:
        session.add(LoginAttempt(key=key, at=now))
    session.commit()  # failures count even though the caller's attempt is refused


def _throttle_keys(identifier: str, origin: str) -> list[str]:
    return [f"origin:{origin}", f"id:{identifier.strip().lower()}"]


def authenticate_intervenant(session: Session, identifier: str, password: str, *, origin: str) -> Intervenant:
    """Check an identifier (Numéro Intervenant or identifiant Imag'in) and password.

    ``origin`` is where the attempt comes from (e.g. ``chat:123``), throttled like the identifier.
    """
    keys = _throttle_keys(identifier, origin)
    _check_throttle(session, keys)
    ident = identifier.strip()
    person = session.scalar(
        select(Intervenant).where(or_(func.upper(Intervenant.numero) == ident.upper(), Intervenant.imagin_id == ident))
    )
    if person is None or not verify_password(person.password_hash, password.strip()):
        _fail(session, keys)
        raise Forbidden("Identifiant ou mot de passe incorrect. Vérifiez les informations de votre convocation.")
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[1]))
    return person


def authenticate_staff(session: Session, login: str, password: str, *, origin: str) -> StaffUser:
    """Check a staff login (DEC gestionnaire or chef de centre)."""
    keys = _throttle_keys(login, origin)
    _check_throttle(session, keys)
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.login) == login.strip().lower()))
    if user is None or not user.active or not verify_password(user.password_hash, password.strip()):
        _fail(session, keys)
        raise Forbidden("Identifiant ou mot de passe incorrect.")
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[1]))
    return user


def check_new_code(code: str) -> str:
    """Validate a new personal code; returns it stripped."""
    code = code.strip()
    if len(code) < MIN_CODE_LENGTH or code.isdigit() or code.isalpha():
        raise InvalidInput(
            f"Code trop simple : au moins {MIN_CODE_LENGTH} caractères, avec des lettres et des chiffres. "
            "Exemple : Jury2026bac"
        )
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
    """Link a Telegram account to a person; a Telegram account is linked to one person at most."""
    for model in (Intervenant, StaffUser):
        for other in session.scalars(select(model).where(model.telegram_user_id == telegram_user_id)):
            if other is not person:
                other.telegram_user_id = None
    person.telegram_user_id = telegram_user_id
    audit.record(session, f"telegram:{telegram_user_id}", type(person).__tablename__, person.id, "telegram_linked")


def unlink_telegram(session: Session, telegram_user_id: int) -> None:
    for model in (Intervenant, StaffUser):
        for person in session.scalars(select(model).where(model.telegram_user_id == telegram_user_id)):
            person.telegram_user_id = None
            audit.record(session, f"telegram:{telegram_user_id}", model.__tablename__, person.id, "telegram_unlinked")


def person_for_telegram(session: Session, telegram_user_id: int) -> Intervenant | StaffUser | None:
    """The intervenant or staff user linked to this Telegram account, if any."""
    person = session.scalar(select(Intervenant).where(Intervenant.telegram_user_id == telegram_user_id))
    if person is not None:
        return person
    return session.scalar(select(StaffUser).where(StaffUser.telegram_user_id == telegram_user_id))


def get_intervenant(session: Session, intervenant_id: int) -> Intervenant:
    person = session.get(Intervenant, intervenant_id)
    if person is None:
        raise NotFound("Intervenant inconnu.")
    return person
