"""Receipts: the file rule (type by content, size), storage, and the OCR reading's arrival.

Chat and e-mail use the same rule: gif, jpeg, png or pdf, sniffed from the bytes, 5 MB at most.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core import audit, outbox, prechecks
from core.errors import InvalidInput, NotFound
from core.filestore import receipt_store, sha256_hex
from core.french import format_amount, format_size
from core.models import EtatDeFrais, Receipt, utcnow
from ocr.sniff import mime_type

log = logging.getLogger(__name__)

MAX_RECEIPT_BYTES = 5 * 1024 * 1024
ALLOWED_TYPES = {"image/gif": "gif", "image/jpeg": "jpeg", "image/png": "png", "application/pdf": "pdf"}
ALLOWED_LABEL = "gif, jpeg, jpg, png ou pdf"
MAX_RECEIPT_SIZE = format_size(MAX_RECEIPT_BYTES)  # "5 Mo", as every text says it
FILE_RULE = f"{ALLOWED_LABEL}, {MAX_RECEIPT_SIZE} au maximum par fichier"  # the rule in a sentence


def sniff_type(data: bytes) -> str | None:
    """The MIME type read from the bytes themselves (not the name, not the declared type): ``ocr.sniff`` decides."""
    return mime_type(data)


def check_receipt_file(data: bytes, name: str = "") -> str:
    """Accept a receipt file or raise InvalidInput saying why (French); returns the sniffed MIME type."""
    label = f"« {PurePath(name).name} »" if name else "Le fichier"
    if len(data) > MAX_RECEIPT_BYTES:
        advice = _LIGHTER.get(sniff_type(data) or "", _LIGHTER["image/jpeg"])
        raise InvalidInput(
            f"{label} est trop volumineux ({format_size(len(data))}) : {MAX_RECEIPT_SIZE} au maximum.{advice}"
        )
    if not data:
        raise InvalidInput(f"{label} est vide.")
    mime = sniff_type(data)
    if mime not in ALLOWED_TYPES:
        kind, advice = _REFUSED_KINDS.get(mime or "", (f"fichier de type {mime}" if mime else "", ""))
        found = f" ({kind})" if kind else ""
        raise InvalidInput(f"{label} n'est pas un format accepté{found} : formats acceptés {ALLOWED_LABEL}.{advice}")
    return mime


_LIGHTER = {  # how to send a lighter file of the same kind
    "application/pdf": " Envoyez un PDF plus léger (numérisé en 200 ppp, en noir et blanc) ou une photo de chaque "
    "page utile.",
    "image/jpeg": " Envoyez une photo moins lourde : sur Telegram, envoyez-la comme photo (et non comme fichier) ; "
    "par e-mail, choisissez la taille « moyenne » ou « grande » plutôt que la taille réelle.",
}
_AS_PDF = " Enregistrez-le en PDF (menu Fichier > Exporter ou Imprimer en PDF), puis envoyez ce PDF."
_AS_JPEG = " Faites une capture d'écran de l'image (elle sera en PNG) et envoyez cette capture."
_UNPACKED = " Envoyez chaque justificatif séparément, sans le compresser."
_REFUSED_KINDS: dict[str, tuple[str, str]] = {  # common refused types: (what it is, how to send it instead)
    "image/heic": (
        "photo HEIC d'iPhone",
        " Faites une capture d'écran de la photo, ou choisissez sur l'iPhone "
        "Réglages > Appareil photo > Formats > « Le plus compatible » avant de reprendre la photo.",
    ),
    "image/avif": ("image AVIF", _AS_JPEG),
    "image/webp": ("image WebP", _AS_JPEG),
    "image/tiff": ("image TIFF", _AS_JPEG),
    "image/bmp": ("image BMP", _AS_JPEG),
    "application/msword": ("document Word", _AS_PDF),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document Word", _AS_PDF),
    "application/vnd.oasis.opendocument.text": ("document OpenDocument", _AS_PDF),
    "application/vnd.ms-excel": ("tableur Excel", _AS_PDF),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("tableur Excel", _AS_PDF),
    "application/rtf": ("document RTF", _AS_PDF),
    "application/zip": ("archive ZIP", _UNPACKED),
    "application/x-rar-compressed": ("archive RAR", _UNPACKED),
    "application/x-7z-compressed": ("archive 7z", _UNPACKED),
}


def add_receipt(
    session: Session,
    efm: EtatDeFrais,
    data: bytes,
    original_name: str,
    *,
    source: str,
    source_ref: str = "",
    actor: str,
) -> tuple[Receipt, bool]:
    """Check, store and attach a receipt to a dossier; returns (receipt, created).

    The same file sent twice to the same dossier is kept once. OCR is queued after the commit.
    """
    mime = check_receipt_file(data, original_name)
    digest = sha256_hex(data)
    existing = session.scalar(select(Receipt).where(Receipt.efm_id == efm.id, Receipt.sha256 == digest))
    if existing is not None:
        return existing, False
    key = receipt_store().put(data)
    name = PurePath(original_name or f"justificatif.{ALLOWED_TYPES[mime]}").name[:255]
    receipt = Receipt(
        efm_id=efm.id,
        sha256=digest,
        original_name=name,
        detected_type=mime,
        size=len(data),
        source=source,
        source_ref=source_ref[:255],
        storage_key=key,
    )
    session.add(receipt)
    session.flush()
    audit.record(
        session,
        actor,
        "receipt",
        receipt.id,
        "receipt_added",
        None,
        {"efm_id": efm.id, "name": name, "sha256": digest, "source": source},
    )
    session.info.setdefault("ocr_after_commit", []).append(receipt.id)
    return receipt, True


@event.listens_for(Session, "after_commit")
def _queue_ocr_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: wait for the real commit
        return
    ids = session.info.pop("ocr_after_commit", None)
    if not ids:
        return
    from core import jobs

    for receipt_id in ids:
        try:
            jobs.enqueue_ocr(receipt_id)
        except Exception:  # the periodic sweep re-queues pending receipts
            log.exception("could not queue OCR for receipt %s", receipt_id)


@event.listens_for(Session, "after_rollback")
def _forget_ocr_after_rollback(session: Session) -> None:
    session.info.pop("ocr_after_commit", None)


def receipts_of(session: Session, efm_id: int) -> list[Receipt]:
    return list(session.scalars(select(Receipt).where(Receipt.efm_id == efm_id).order_by(Receipt.id)))


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def record_reading(session: Session, receipt_id: int, reading: dict[str, Any]) -> Receipt:
    """Store an OCR reading (keys of ``ocr.Reading.to_dict()`` plus ``phash``), refresh the flags and
    tell the intervenant. The declared total is never changed."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound("Justificatif introuvable.")
    receipt.ocr_total = _decimal(reading.get("total"))
    receipt.ocr_currency = reading.get("currency")
    raw_date = reading.get("date")
    receipt.ocr_date = date.fromisoformat(raw_date) if isinstance(raw_date, str) and raw_date else None
    receipt.ocr_confidence = reading.get("confidence")
    receipt.ocr_engine = reading.get("engine")
    receipt.ocr_pages = reading.get("pages")
    receipt.ocr_seconds = reading.get("seconds")
    receipt.ocr_error = reading.get("error")
    receipt.phash = reading.get("phash") or receipt.phash
    receipt.ocr_status = "done" if receipt.ocr_total is not None else "failed"
    receipt.ocr_at = utcnow()
    audit.record(
        session,
        "system:ocr",
        "receipt",
        receipt.id,
        "ocr_read",
        None,
        {"total": reading.get("total"), "confidence": receipt.ocr_confidence, "error": receipt.ocr_error},
    )
    efm = receipt.efm
    flags = prechecks.refresh_flags(session, efm)
    if receipt.ocr_total is not None:
        text = f"Votre justificatif « {receipt.original_name} » a été lu : total {format_amount(receipt.ocr_total)}."
    else:
        reason = receipt.ocr_error or "le total n'a pas pu être lu"
        text = (
            f"Votre justificatif « {receipt.original_name} » n'a pas pu être lu automatiquement ({reason}). "
            "La DEC le vérifiera."
        )
    mismatch = next((f for f in flags if f.code == prechecks.TOTAL_DIFFERS), None)
    if mismatch is not None:
        text += " Attention : " + mismatch.message[0].lower() + mismatch.message[1:]
    outbox.notify_intervenant(
        session,
        efm.convocation.intervenant,
        kind="receipt_read",
        text=text,
        subject="Imag'in : justificatif lu",
        dedupe_key=f"receipt_read:{receipt.id}",
        email=receipt.source == "email",
    )  # a mailed receipt is answered by mail too
    return receipt
