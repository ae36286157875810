"""Files sent in the chat as receipts: which file a message carries, and its bytes fetched from Telegram.

What is accepted (types, sizes, HEIC, photos made smaller) is core's rule (``core.receipts``); this module only
gets the bytes to it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiogram_dialog import DialogManager
from sqlalchemy.orm import Session

from bot.dialogs.common import say
from bot.services import run_db
from core import missions, receipts
from core.errors import DomainError
from core.french import format_size

log = logging.getLogger(__name__)
KEPT_WITH_MISSION = "Il est gardé avec cette mission : vous le retrouverez à l'étape « Justificatifs »."
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API cannot hand bigger files to bots
FILE_HINT = (
    f"Envoyez une photo ou un fichier ({receipts.FILE_RULE}), par exemple la photo du billet ou le PDF de la facture."
)


@dataclass(frozen=True)
class SentFile:
    """A photo or document of a message: enough to fetch it later (Telegram keeps its file id)."""

    file_id: str
    name: str
    size: int | None


def sent_file(message: Message) -> SentFile | None:
    """The photo (largest size) or document of a message, None when it carries neither."""
    if message.photo:
        photo = message.photo[-1]
        return SentFile(photo.file_id, f"photo-{message.message_id}.jpg", photo.file_size)
    if message.document:
        doc = message.document
        return SentFile(doc.file_id, doc.file_name or f"document-{message.message_id}", doc.file_size)
    return None


async def too_big(manager: DialogManager, sent: SentFile) -> bool:
    """Whether Telegram will not hand this file to the bot (the user is told)."""
    if not sent.size or sent.size <= TELEGRAM_DOWNLOAD_LIMIT:
        return False
    await say(
        manager,
        f"❗ « {sent.name} » est trop volumineux pour être reçu ici ({format_size(sent.size)}). "
        f"Envoyez-le comme photo plutôt que comme fichier, ou un fichier de {receipts.MAX_RECEIPT_SIZE} au maximum.",
    )
    return True


async def fetch(manager: DialogManager, sent: SentFile) -> bytes | None:
    """The file's bytes; None when Telegram cannot hand it over (the user is told why, nothing is stored)."""
    if await too_big(manager, sent):
        return None
    bot: Bot = manager.middleware_data["bot"]
    buffer = io.BytesIO()
    try:
        await bot.download(sent.file_id, destination=buffer)
    except TelegramAPIError:  # network, file expired: nothing stored
        log.warning("download of %s failed", sent.name, exc_info=True)
        await say(manager, f"❗ « {sent.name} » n'a pas pu être récupéré auprès de Telegram : renvoyez-le. {FILE_HINT}")
        return None
    return buffer.getvalue()


def _add_receipt(
    session: Session, person_id: int, efm_id: int, data: bytes, name: str, ref: str, actor: str
) -> tuple[str, bool]:
    efm = missions.efm_of_intervenant(session, person_id, efm_id)
    receipt, created = receipts.add_receipt(session, efm, data, name, source="chat", source_ref=ref, actor=actor)
    return receipt.original_name, created


async def keep_receipt(manager: DialogManager, message: Message, person_id: int, efm_id: int, actor: str) -> bool:
    """Store the photo or file of `message` as a receipt of this dossier (core checks it); the user is told what
    became of it. Whether it was stored."""
    sent = sent_file(message)
    if sent is None:
        await say(manager, f"❗ {FILE_HINT}")
        return False
    data = await fetch(manager, sent)
    if data is None:
        return False
    ref = f"telegram:{message.chat.id}:{message.message_id}"
    try:
        stored, created = await run_db(_add_receipt, person_id, efm_id, data, sent.name, ref, actor)
    except DomainError as exc:
        await say(manager, f"❗ {exc.message}\n{FILE_HINT}")
        return False
    await say(
        manager,
        f"✅ Justificatif « {stored} » reçu : il va être lu automatiquement."
        if created
        else f"Ce justificatif (« {stored} ») était déjà enregistré.",
    )
    return True
