"""Linking a Telegram account: identifier, convocation password, then a new personal code."""

from __future__ import annotations

import time
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import Message
from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dialogs.common import catch_all, error, say, text_of
from bot.identity import forget_identities, load_identity
from bot.services import run_db
from bot.states import Chef, Link, Missions
from core import accounts
from core.errors import DomainError, Forbidden, InvalidInput
from core.models import Intervenant, StaffUser

TEXT_PLEASE = "Envoyez votre réponse en texte, s'il vous plaît."
PENDING_SECONDS = 15 * 60  # time allowed to choose the new code after the password was accepted


def _authenticate(session: Session, identifier: str, password: str, origin: str, telegram_id: int) -> dict:
    """Check the convocation credentials; link at once unless a new code must be chosen first."""
    is_staff = (
        session.scalar(select(StaffUser.id).where(func.lower(StaffUser.login) == identifier.strip().lower()))
        is not None
    )
    if is_staff:
        person: Intervenant | StaffUser = accounts.authenticate_staff(session, identifier, password, origin=origin)
    else:
        person = accounts.authenticate_intervenant(session, identifier, password, origin=origin)
    kind = "staff" if is_staff else "intervenant"
    if not person.must_change_password:
        accounts.link_telegram(session, person, telegram_id)
    return {"kind": kind, "id": person.id, "must_change": person.must_change_password}


def _set_code_and_link(session: Session, kind: str, person_id: int, code: str, telegram_id: int) -> None:
    model = StaffUser if kind == "staff" else Intervenant
    person = session.get(model, person_id)
    if person is None:
        raise Forbidden("Compte introuvable : recommencez avec /start.")
    accounts.change_password(session, person, code, actor=f"{kind}:{person_id}")
    accounts.link_telegram(session, person, telegram_id)


async def _delete_secret(message: Message) -> None:
    try:
        await message.delete()
    except Exception:  # noqa: BLE001 - the message may already be gone; the secret is never stored
        pass


async def on_identifier(message: Message, widget: Any, manager: DialogManager) -> None:
    ident = text_of(message)
    if not ident or len(ident) > 64 or " " in ident:
        await error(
            manager,
            InvalidInput("Identifiant invalide. Exemple attendu : N123456 (tel qu'imprimé sur votre convocation)."),
        )
        return
    manager.dialog_data["identifier"] = ident
    await manager.switch_to(Link.password)


async def _linked(manager: DialogManager, kind: str) -> None:
    user = manager.middleware_data["event_from_user"]
    forget_identities(manager.middleware_data)
    manager.middleware_data["identity"] = await run_db(load_identity, user.id)
    await say(manager, "✅ Votre compte Telegram est maintenant relié à Imag'in.")
    await manager.start(Chef.dates if kind == "staff" else Missions.listing, mode=StartMode.RESET_STACK)


async def on_password(message: Message, widget: Any, manager: DialogManager) -> None:
    password = text_of(message)
    await _delete_secret(message)
    user_id = message.from_user.id  # type: ignore[union-attr]
    try:
        result = await run_db(
            _authenticate, manager.dialog_data.get("identifier", ""), password, f"chat:{message.chat.id}", user_id
        )
    except DomainError as exc:
        await error(manager, exc)
        await manager.switch_to(Link.identifier)
        return
    if not result["must_change"]:
        await _linked(manager, result["kind"])
        return
    manager.dialog_data["pending"] = {"kind": result["kind"], "id": result["id"], "at": time.time()}
    await manager.switch_to(Link.new_code)


async def on_new_code(message: Message, widget: Any, manager: DialogManager) -> None:
    code = text_of(message)
    await _delete_secret(message)
    pending = manager.dialog_data.get("pending")
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        manager.dialog_data.pop("pending", None)
        await say(manager, "⏱ Délai dépassé : recommencez avec votre identifiant.")
        await manager.switch_to(Link.identifier)
        return
    try:
        await run_db(_set_code_and_link, pending["kind"], pending["id"], code, message.from_user.id)  # type: ignore[union-attr]
    except DomainError as exc:
        await error(manager, exc)
        return
    manager.dialog_data.pop("pending", None)
    await _linked(manager, pending["kind"])


async def restart(callback: Any, button: Button, manager: DialogManager) -> None:
    manager.dialog_data.clear()
    await manager.switch_to(Link.identifier)


RESTART = Row(Button(Const("↩️ Recommencer"), id="restart", on_click=restart))


def make_dialog() -> Dialog:
    """A fresh dialog (a router can belong to one dispatcher only)."""
    return Dialog(
        Window(
            Const(
                "Bienvenue sur l'assistant Imag'in.\n\n"
                "Étape 1/3 – Pour relier votre compte, envoyez l'identifiant figurant sur votre convocation "
                "(Numéro Intervenant ou identifiant Imag'in).\nExemple : N123456"
            ),
            MessageInput(on_identifier, content_types=[ContentType.TEXT]),
            catch_all(TEXT_PLEASE),
            state=Link.identifier,
        ),
        Window(
            Format(
                "Étape 2/3 – Identifiant : {dialog_data[identifier]}\n"
                "Envoyez le mot de passe imprimé sur votre convocation.\n"
                "🔒 Votre message sera effacé de la discussion aussitôt lu."
            ),
            MessageInput(on_password, content_types=[ContentType.TEXT]),
            catch_all(TEXT_PLEASE),
            RESTART,
            state=Link.password,
        ),
        Window(
            Const(
                "Étape 3/3 – Première connexion : choisissez votre code personnel (au moins 8 caractères, "
                "avec des lettres et des chiffres). Il remplace le mot de passe de la convocation.\n"
                "Exemple : Jury2026bac\n🔒 Votre message sera effacé aussitôt lu."
            ),
            MessageInput(on_new_code, content_types=[ContentType.TEXT]),
            catch_all(TEXT_PLEASE),
            RESTART,
            state=Link.new_code,
        ),
    )
