"""Linking a Telegram account: identifier, convocation password, then a new personal code.

Every decision (staff or intervenant, throttling, first-login code, the link itself) is core's
(``core.accounts``); this dialog asks, calls and renders.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import Message
from aiogram_dialog import Dialog, DialogManager, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Const, Format

from bot.dialogs.common import error, message_input, say, text_of
from bot.identity import forget_identities, load_identity
from bot.services import run_db
from bot.states import Chef, Link, Missions
from core import accounts
from core.errors import DomainError, Forbidden

TEXT_PLEASE = "Envoyez votre réponse en texte, s'il vous plaît."
LINK_FIRST = (
    "Pour envoyer un justificatif ou déclarer une mission, reliez d'abord votre compte Imag'in : "
    "envoyez l'identifiant figurant sur votre convocation (exemple : N123456)."
)


async def _delete_secret(message: Message) -> None:
    try:
        await message.delete()
    except Exception:  # noqa: BLE001 - the message may already be gone; the secret is never stored
        pass


async def on_identifier(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        manager.dialog_data["identifier"] = accounts.check_identifier(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
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
        pending = await run_db(
            accounts.begin_chat_sign_in, manager.dialog_data.get("identifier", ""), chat_id=message.chat.id
        )
        # argon2 outside the database thread: one slow check never holds up every other chat
        matches = await asyncio.to_thread(accounts.password_matches, pending, password)
        login = await run_db(accounts.finish_chat_sign_in, pending, matches, telegram_user_id=user_id)
    except DomainError as exc:
        await error(manager, exc)
        await manager.switch_to(Link.identifier)
        return
    if not login.must_change:
        await _linked(manager, login.kind)
        return
    manager.dialog_data["pending"] = {**dataclasses.asdict(login), "at": time.time()}
    await manager.switch_to(Link.new_code)


async def on_new_code(message: Message, widget: Any, manager: DialogManager) -> None:
    code = text_of(message)
    await _delete_secret(message)
    pending = manager.dialog_data.get("pending") or {"kind": "intervenant", "person_id": 0, "at": 0.0}
    login = accounts.ChatLogin(pending["kind"], pending["person_id"], True)
    user_id = message.from_user.id  # type: ignore[union-attr]
    try:
        await run_db(accounts.finish_first_login, login, code, user_id, password_accepted_at=pending["at"])
    except Forbidden as exc:  # too late, or the account is gone: start again
        manager.dialog_data.pop("pending", None)
        await error(manager, exc)
        await manager.switch_to(Link.identifier)
        return
    except DomainError as exc:
        await error(manager, exc)
        return
    manager.dialog_data.pop("pending", None)
    await _linked(manager, login.kind)


async def on_not_text(message: Message, widget: Any, manager: DialogManager) -> None:
    """A photo, a file or a sticker while linking: linking comes first, said plainly."""
    await say(manager, LINK_FIRST if message.photo or message.document else TEXT_PLEASE)


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
            message_input(on_identifier, ContentType.TEXT),
            MessageInput(on_not_text),
            state=Link.identifier,
        ),
        Window(
            Format(
                "Étape 2/3 – Identifiant : {dialog_data[identifier]}\n"
                "Envoyez votre mot de passe : celui imprimé sur votre convocation (ou votre code personnel "
                "si vous l'avez déjà choisi) ; chef de centre : celui de votre compte de la console DEC.\n"
                "🔒 Votre message sera effacé de la discussion aussitôt lu."
            ),
            message_input(on_password, ContentType.TEXT),
            MessageInput(on_not_text),
            RESTART,
            state=Link.password,
        ),
        Window(
            Const(
                f"Étape 3/3 – Première connexion : choisissez votre code personnel (au moins "
                f"{accounts.MIN_CODE_LENGTH} caractères, avec des lettres et des chiffres). Il remplace le mot de "
                "passe de la convocation.\nExemple : Jury2026bac\n🔒 Votre message sera effacé aussitôt lu."
            ),
            message_input(on_new_code, ContentType.TEXT),
            MessageInput(on_not_text),
            RESTART,
            state=Link.new_code,
        ),
    )
