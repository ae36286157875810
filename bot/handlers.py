"""Commands, the gate that keeps unlinked chats on the linking step, and fallbacks."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Router
from aiogram.enums import ContentType
from aiogram.filters import Command, CommandStart, ExceptionTypeFilter, Filter
from aiogram.types import CallbackQuery, ErrorEvent, Message, User
from aiogram_dialog import DialogManager, ShowMode, StartMode
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState
from aiogram_dialog.api.internal import CONTEXT_KEY
from aiogram_dialog.utils import CB_SEP

from bot.dialogs.common import INTERRUPTED, ContentTypes
from bot.dialogs.link import LINK_FIRST
from bot.identity import Identity, forget_identities, load_identity
from bot.services import run_db
from bot.states import Chef, Declare, Link, Missions, ReceiptEdit, TripEdit
from core import accounts
from core.errors import DomainError

log = logging.getLogger(__name__)
STALE_BUTTON = "Ce bouton n'est plus valable."
COMMANDS_HINT = "Les commandes : /start, /missions, /annuler, /aide."

HELP = (
    "Assistant Imag'in : déclarez vos missions d'examen depuis Telegram.\n"
    "/start – relier votre compte ou revenir à l'accueil\n"
    "/missions – vos missions et vos déclarations\n"
    "/annuler – interrompre la saisie en cours (vos réponses restent enregistrées)\n"
    "/deconnexion – délier ce compte Telegram\n"
    "/aide – cette aide\n"
    "Chaque réponse est enregistrée aussitôt : vous pouvez vous arrêter et reprendre plus tard."
)


class Unlinked(Filter):
    """The chat is not linked and is not in the middle of linking."""

    async def __call__(self, event: Any, identity: Identity | None = None, **data: Any) -> bool:
        if identity is not None:
            return False
        context = data.get(CONTEXT_KEY)
        return context is None or context.state.group is not Link


class Forged(Filter):
    """A button no dialog made (its data lacks aiogram-dialog's separator). Filters here are coroutines: aiogram
    runs a plain function one (`F.data...`) in a worker thread, a thread round trip for every update."""

    async def __call__(self, callback: CallbackQuery) -> bool:
        return CB_SEP not in (callback.data or "")


async def home(manager: DialogManager, identity: Identity | None) -> None:
    """The first screen for this chat: linking, chef de centre, or the intervenant's missions."""
    if identity is None:
        await manager.start(Link.identifier, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
    elif identity.kind == "staff":
        await manager.start(Chef.dates, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)
    else:
        await manager.start(Missions.listing, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


async def start(message: Message, dialog_manager: DialogManager, identity: Identity | None) -> None:
    await home(dialog_manager, identity)


async def help_(message: Message) -> None:
    await message.answer(HELP)


async def cancel(message: Message, dialog_manager: DialogManager, identity: Identity | None, **data: Any) -> None:
    """/annuler: whatever is being answered is left (answers given so far are saved), back to the home screen."""
    context = data.get(CONTEXT_KEY)
    if context is not None and context.state.group in (Declare, TripEdit, ReceiptEdit):
        await message.answer(INTERRUPTED)
    await home(dialog_manager, identity)


class UnknownCommand(Filter):
    """A command no handler took ("/annulr", "/cancel"): never an answer to the question on screen."""

    async def __call__(self, message: Message) -> bool:
        return (message.text or "").startswith("/")


async def unknown_command(
    message: Message, dialog_manager: DialogManager, identity: Identity | None, **data: Any
) -> None:
    await message.answer(f"Commande inconnue : « {(message.text or '').split()[0]} ». {COMMANDS_HINT}")
    if data.get(CONTEXT_KEY) is not None:
        await dialog_manager.show(ShowMode.SEND)
        return
    await home(dialog_manager, identity)


async def unlink(message: Message, dialog_manager: DialogManager, identity: Identity | None, **data: Any) -> None:
    if identity is not None:
        await run_db(accounts.unlink_telegram, message.from_user.id)  # type: ignore[union-attr]
        forget_identities(data)
    await message.answer("Ce compte Telegram n'est plus relié à Imag'in. Envoyez /start pour le relier à nouveau.")
    await dialog_manager.reset_stack()


async def gate_message(message: Message, dialog_manager: DialogManager) -> None:
    """An unlinked chat's text, photo or file: the linking step, whatever was sent."""
    await message.answer(
        LINK_FIRST if message.photo or message.document else "Pour commencer, reliez votre compte Imag'in."
    )
    await home(dialog_manager, None)


async def gate_callback(callback: CallbackQuery, dialog_manager: DialogManager) -> None:
    await callback.answer("Reliez d'abord votre compte avec /start.", show_alert=True)


async def stray_file(message: Message) -> None:
    await message.answer(
        "Pour joindre un justificatif, ouvrez la mission (/missions), choisissez « Déclarer » "
        "puis allez à l'étape Justificatifs."
    )


async def stray_message(
    message: Message, dialog_manager: DialogManager, identity: Identity | None, **data: Any
) -> None:
    if data.get(CONTEXT_KEY) is not None:
        await message.answer("Répondez avec les boutons ci-dessous, s'il vous plaît.")
        await dialog_manager.show(ShowMode.SEND)
        return
    await message.answer("Je n'ai pas compris. Choisissez une action ci-dessous ou envoyez /aide.")
    await home(dialog_manager, identity)


async def stray_callback(callback: CallbackQuery) -> None:
    await callback.answer(STALE_BUTTON)


async def _identity_of(manager: DialogManager) -> Identity | None:
    """The linked person of an error event, looked up and given to the screens it opens (the identity
    middleware runs for messages and buttons, not for errors)."""
    user: User | None = manager.middleware_data.get("event_from_user")
    identity = await run_db(load_identity, user.id) if user is not None else None
    manager.middleware_data["identity"] = identity
    return identity


async def stale_button(event: ErrorEvent, dialog_manager: DialogManager) -> None:
    """A button of a screen that no longer exists (closed dialog, old message): a short answer, then the screen
    this chat is on, shown again (a declaration under way is not left for an old button); with none, the home
    screen (a linked person never gets the linking screen back)."""
    callback = event.update.callback_query
    if callback is not None:
        await callback.answer(STALE_BUTTON)
    identity = await _identity_of(dialog_manager)
    if identity is not None and dialog_manager.has_context():
        await dialog_manager.show(ShowMode.SEND)
        return
    await home(dialog_manager, identity)


async def refused(event: ErrorEvent, dialog_manager: DialogManager) -> None:
    """A domain error no screen caught, typically a forged or outdated button naming something that is not
    (or no longer) the user's: answered briefly, logged in one line (it is the user's input, not a fault)."""
    exc = event.exception
    log.info("update refused: %s: %s", type(exc).__name__, exc)
    callback = event.update.callback_query
    if callback is not None:
        await callback.answer(STALE_BUTTON)
    elif event.update.message is not None and isinstance(exc, DomainError):
        await event.update.message.answer(f"❗ {exc.message}")
    await home(dialog_manager, await _identity_of(dialog_manager))


def make_routers() -> tuple[Router, Router]:
    """The commands-and-gate router (first) and the fallback router (last), fresh for one dispatcher."""
    router = Router(name="commands")
    router.message.register(start, CommandStart())
    router.message.register(start, Command("missions"))
    router.message.register(help_, Command("aide", "help"))
    router.message.register(cancel, Command("annuler", "cancel", "stop"))
    router.message.register(unlink, Command("deconnexion"))
    router.message.register(gate_message, Unlinked())
    router.callback_query.register(gate_callback, Unlinked())
    router.message.register(unknown_command, UnknownCommand())
    router.callback_query.register(stray_callback, Forged())
    fallback = Router(name="fallback")
    fallback.message.register(stray_file, ContentTypes(ContentType.PHOTO, ContentType.DOCUMENT))
    fallback.message.register(stray_message)
    fallback.callback_query.register(stray_callback)
    router.errors.register(stale_button, ExceptionTypeFilter(UnknownIntent, UnknownState, OutdatedIntent))
    router.errors.register(refused, ExceptionTypeFilter(DomainError))
    return router, fallback
