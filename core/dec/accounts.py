"""Staff accounts of the console (DEC gestionnaires, chefs de centre): created with a one-time password
that must be changed at first sign-in, reset, disabled. Passwords are stored hashed (argon2)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, audit
from core.errors import InvalidInput, NotFound
from core.models import Centre, StaffRole, StaffUser

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _find(session: Session, login: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.login) == login.strip().lower()))
    if user is None:
        raise NotFound(f"Compte « {login} » inconnu.")
    return user


def create_staff(
    session: Session,
    login: str,
    full_name: str,
    role: str,
    *,
    centre_code: str | None = None,
    email: str | None = None,
    actor: str,
) -> tuple[StaffUser, str]:
    """A new account and its one-time password (to hand over; changed at first sign-in)."""
    login = login.strip().lower()
    if not LOGIN_RE.match(login):
        raise InvalidInput("Identifiant invalide : lettres minuscules, chiffres, point ou tiret. Exemple : j.dupont")
    if session.scalar(select(StaffUser.id).where(func.lower(StaffUser.login) == login)) is not None:
        raise InvalidInput(f"Le compte « {login} » existe déjà.")
    if not full_name.strip():
        raise InvalidInput("Indiquez le nom complet. Exemple : Jeanne Dupont")
    try:
        staff_role = StaffRole(role)
    except ValueError:
        raise InvalidInput("Rôle inconnu : gestionnaire ou chef_centre.") from None
    centre_id = None
    if staff_role is StaffRole.CHEF_CENTRE:
        if not centre_code:
            raise InvalidInput("Un chef de centre est rattaché à un centre : indiquez son code. Exemple : 0141274A")
        centre_id = session.scalar(select(Centre.id).where(Centre.code == centre_code.strip().upper()))
        if centre_id is None:
            raise InvalidInput(f"Centre « {centre_code} » inconnu.")
    password = accounts.new_login_code()
    user = StaffUser(
        login=login,
        full_name=full_name.strip(),
        email=(email or "").strip().lower() or None,
        role=staff_role,
        centre_id=centre_id,
        password_hash=accounts.hash_password(password),
        must_change_password=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "staff_users",
        user.id,
        "staff_created",
        None,
        {"login": login, "role": staff_role.value, "centre_id": centre_id},
    )
    return user, password


def reset_staff_password(session: Session, login: str, *, actor: str) -> str:
    """A new one-time password (the account's sessions end, the change is forced again)."""
    user = _find(session, login)
    password = accounts.new_login_code()
    user.password_hash = accounts.hash_password(password)
    user.must_change_password = True
    audit.record(session, actor, "staff_users", user.id, "staff_password_reset")
    return password


def set_staff_active(session: Session, login: str, active: bool, *, actor: str) -> StaffUser:
    """Disable (sessions end at once) or enable an account."""
    user = _find(session, login)
    user.active = active
    audit.record(session, actor, "staff_users", user.id, "staff_enabled" if active else "staff_disabled")
    return user


def change_own_password(session: Session, user: StaffUser, current: str, new: str, confirmation: str) -> None:
    """A staff member changes their own password: the current one checked, the new one typed twice alike."""
    if not accounts.verify_password(user.password_hash, current.strip()):
        raise InvalidInput("Mot de passe actuel incorrect.")
    if new.strip() != confirmation.strip():
        raise InvalidInput("Les deux saisies du nouveau mot de passe diffèrent.")
    accounts.change_password(session, user, new, f"staff:{user.id}")
