"""Several photos of one receipt (front and back, a long ticket) joined into one PDF, as Imag'in asks (« si possible
en un seul fichier »): a window of the receipt sub-dialog collects the photos sent, then core joins and stores them.

The photos are kept as Telegram file ids until joined (nothing is stored before); ``core.receipts.join_photos``
says how many and which files can be joined.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, Window
from aiogram_dialog.widgets.kbd import Button, Row
from aiogram_dialog.widgets.text import Const, Format
from sqlalchemy.orm import Session

from bot.dialogs.common import error, message_input, say, when
from bot.dialogs.declare.navigation import current_draft, efm_of, forget_draft, header, ids, window
from bot.dialogs.declare.receipt_files import FILE_HINT, SentFile, fetch, sent_file, too_big
from bot.services import run_db
from bot.states import ReceiptEdit
from core import receipts
from core.errors import DomainError, InvalidInput


def _photos(manager: DialogManager) -> list[dict[str, Any]]:
    return manager.dialog_data.setdefault("photos", [])


async def join_getter(dialog_manager: DialogManager, **kwargs: Any) -> dict[str, Any]:
    d = await current_draft(dialog_manager)
    photos = _photos(dialog_manager)
    received = "\n".join(f"  📷 {p['name']}" for p in photos) or "  aucune pour l'instant"
    return {
        "text": f"{header(d, 'receipts')}\n\nPlusieurs photos d'un même justificatif (recto et verso, un long "
        f"ticket) : envoyez-les une à une (jusqu'à {receipts.MAX_JOINED_PHOTOS}), puis touchez « Réunir ». "
        f"Elles formeront un seul fichier PDF.\nPhotos reçues :\n{received}",
        "count": len(photos),
        "joinable": len(photos) >= 2,
    }


async def on_join_photo(message: Message, widget: Any, manager: DialogManager) -> None:
    sent = sent_file(message)
    if sent is None:
        await error(manager, InvalidInput(FILE_HINT))
        return
    if await too_big(manager, sent):
        return
    photos = _photos(manager)
    if len(photos) >= 2:
        try:
            receipts.check_photo_count(len(photos) + 1)
        except DomainError as exc:
            await error(manager, exc)
            return
    photos.append({"file_id": sent.file_id, "name": sent.name, "size": sent.size})


def _joined(session: Session, person_id: int, efm_id: int, pdf: bytes, name: str, actor: str) -> tuple[str, bool]:
    efm = efm_of(session, person_id, efm_id)
    receipt, created = receipts.add_receipt(session, efm, pdf, name, source="chat", actor=actor)
    return receipt.original_name, created


async def on_join_done(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    person_id, efm_id, actor = ids(manager)
    photos = [SentFile(p["file_id"], p["name"], p["size"]) for p in _photos(manager)]
    files = []
    for sent in photos:
        data = await fetch(manager, sent)
        if data is None:
            return
        files.append(data)
    name = f"photos-{callback.message.message_id if callback.message else 0}.pdf"
    try:
        pdf = await asyncio.to_thread(receipts.join_photos, files)
        stored, created = await run_db(_joined, person_id, efm_id, pdf, name, actor)
    except DomainError as exc:
        await error(manager, exc)
        return
    forget_draft(manager)
    if created:
        await say(manager, f"✅ Justificatif « {stored} » reçu ({len(files)} photos réunies) : il va être lu.")
    else:
        await say(manager, f"Ce justificatif (« {stored} ») était déjà enregistré.")
    await manager.done()


async def on_drop_last(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    photos = _photos(manager)
    if photos:
        await say(manager, f"↩️ « {photos.pop()['name']} » retirée.")


async def on_join_text(message: Message, widget: Any, manager: DialogManager) -> None:
    await error(manager, InvalidInput(FILE_HINT))


async def on_leave(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    await manager.done()


def join_window() -> Window:
    return window(
        ReceiptEdit.join,
        join_getter,
        message_input(on_join_photo, ContentType.PHOTO, ContentType.DOCUMENT),
        message_input(on_join_text, ContentType.TEXT),
        Button(
            Format("📎 Réunir les {count} photos en un seul fichier"),
            id="join_done",
            on_click=on_join_done,
            when=when("joinable"),
        ),
        Button(Const("↩️ Retirer la dernière photo"), id="drop_last", on_click=on_drop_last, when=when("count")),
        nav=Row(Button(Const("✖️ Laisser"), id="leave", on_click=on_leave)),
    )
