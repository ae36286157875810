"""Steps « Montant des justificatifs » and « Justificatifs »: files sent here, checked by core's file rule."""

from __future__ import annotations

import io
import logging
from decimal import Decimal
from typing import Any

from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Const
from sqlalchemy.orm import Session

from bot.dialogs.common import error, say, text_of
from bot.dialogs.declare.navigation import (
    apply,
    current_draft,
    efm_of,
    forget_draft,
    header,
    ids,
    keep,
    next_step,
    window,
)
from bot.services import run_db
from bot.states import Declare
from bot.views import receipt_names
from core import declarations, receipts
from core.errors import DomainError, InvalidInput
from core.parsing import parse_amount

log = logging.getLogger(__name__)
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API cannot hand bigger files to bots
FILE_HINT = (
    f"Envoyez une photo ou un fichier ({receipts.FILE_RULE}), par exemple la photo du billet ou le PDF de la facture."
)


def _receipts(session: Session, person_id: int, efm_id: int) -> list[str]:
    return receipt_names(session, efm_of(session, person_id, efm_id))


def _add_receipt(
    session: Session, person_id: int, efm_id: int, data: bytes, name: str, ref: str, actor: str
) -> tuple[str, bool]:
    efm = efm_of(session, person_id, efm_id)
    receipt, created = receipts.add_receipt(session, efm, data, name, source="chat", source_ref=ref, actor=actor)
    return receipt.original_name, created


# ---- declared total ----------------------------------------------------------------------------------


async def total_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    return {
        "text": f"{header(d, 'total')}\n\nMontant total de vos justificatifs (transport, hébergement…) ?\n"
        f"Exemple : 45,80\nValeur actuelle : {d.receipts_total or '—'}",
        "current": d.receipts_total or "",
    }


async def _total(manager: DialogManager, amount: Decimal) -> None:
    _, _, actor = ids(manager)
    draft = await apply(manager, lambda s, e: declarations.set_receipts_total(s, e, amount, actor))
    if draft:
        await next_step(manager, draft)


async def on_total(message: Message, widget: Any, manager: DialogManager) -> None:
    try:
        amount = parse_amount(text_of(message))
    except DomainError as exc:
        await error(manager, exc)
        return
    await _total(manager, amount)


async def on_no_receipt(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await _total(manager, Decimal("0.00"))


async def on_keep(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await next_step(manager, await current_draft(manager))


# ---- files ------------------------------------------------------------------------------------------------


async def receipts_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    person_id, efm_id, _ = ids(dialog_manager)
    names = await run_db(_receipts, person_id, efm_id)
    files = "\n".join(f"  📎 {name}" for name in names) or "  aucun pour l'instant"
    mail = (
        f"\n📧 Envoi par e-mail annoncé : à {d.mail_address}, objet « {d.mail_reference} »."
        if d.receipts_by_email
        else ""
    )
    return {
        "text": f"{header(d, 'receipts')}\n\nJustificatifs : {FILE_HINT}\nVous pouvez en envoyer plusieurs, "
        f"ici même.\nReçus :\n{files}{mail}"
    }


async def on_file(message: Message, widget: Any, manager: DialogManager) -> None:
    person_id, efm_id, actor = ids(manager)
    if message.photo:
        item, name = message.photo[-1], f"photo-{message.message_id}.jpg"
    elif message.document:
        item, name = message.document, message.document.file_name or f"document-{message.message_id}"
    else:
        await error(manager, InvalidInput(FILE_HINT))
        return
    if item.file_size and item.file_size > TELEGRAM_DOWNLOAD_LIMIT:
        await error(
            manager,
            InvalidInput(f"« {name} » est trop volumineux : {receipts.MAX_RECEIPT_SIZE} au maximum. {FILE_HINT}"),
        )
        return
    bot: Bot = manager.middleware_data["bot"]
    buffer = io.BytesIO()
    try:
        await bot.download(item.file_id, destination=buffer)
    except TelegramAPIError:  # Telegram could not hand the file over (network, file expired): nothing stored
        log.warning("download of %s failed", name, exc_info=True)
        await say(manager, f"❗ « {name} » n'a pas pu être récupéré auprès de Telegram : renvoyez-le. {FILE_HINT}")
        return
    ref = f"telegram:{message.chat.id}:{message.message_id}"
    try:
        stored, created = await run_db(_add_receipt, person_id, efm_id, buffer.getvalue(), name, ref, actor)
    except DomainError as exc:
        await say(manager, f"❗ {exc.message}\n{FILE_HINT}")
        return
    forget_draft(manager)
    await say(
        manager,
        f"✅ Justificatif « {stored} » reçu." if created else f"Ce justificatif (« {stored} ») était déjà enregistré.",
    )


async def on_receipt_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await error(manager, InvalidInput(f"{FILE_HINT} Sinon, choisissez « par e-mail » ou « Continuer »."))


async def on_by_email(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    _, _, actor = ids(manager)
    draft = await apply(manager, lambda s, e: declarations.set_receipts_by_email(s, e, True, actor))
    if draft:
        await say(
            manager,
            f"📧 Envoyez vos justificatifs à {draft.mail_address} en indiquant en objet : "
            f"« {draft.mail_reference} ». Formats : {receipts.FILE_RULE}.",
        )


def windows() -> list[Window]:
    return [
        window(
            Declare.receipts_total,
            total_getter,
            MessageInput(on_total, content_types=[ContentType.TEXT]),
            Button(Const("Aucun justificatif (0,00 €)"), id="no_receipt", on_click=on_no_receipt),
            keep("current", "keep_total", on_keep),
        ),
        window(
            Declare.receipts,
            receipts_getter,
            MessageInput(on_file, content_types=[ContentType.PHOTO, ContentType.DOCUMENT]),
            MessageInput(on_receipt_text, content_types=[ContentType.TEXT]),
            Button(Const("📧 Je les enverrai par e-mail"), id="by_email", on_click=on_by_email),
            Button(Const("➡️ Continuer"), id="receipts_done", on_click=on_keep),
        ),
    ]
