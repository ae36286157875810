"""Receipts: the file rule (type by content, size, the file opens), storage, and the OCR reading's arrival.

Chat and e-mail use the same rule: gif, jpeg, png or pdf, sniffed from the bytes, 5 MB at most, and a file
that opens (an image decoded to its end, a PDF neither damaged nor locked by a password). An iPhone's
HEIC/HEIF photo is converted to JPEG and a photo over 5 MB is made smaller (while it stays legible); the file as
sent is kept beside (``original_key``). Several photos of one receipt can be joined into one PDF
(:func:`join_photos`). A receipt can be removed, its file replaced, or moved to another mission of the person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from pathlib import PurePath
from typing import Any

import pillow_heif
from PIL import Image, ImageOps
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from core import audit, outbox, prechecks, receipt_lines
from core.errors import IllegalTransition, InvalidInput, NotFound
from core.filestore import receipt_store, sha256_hex
from core.french import format_amount, format_size
from core.models import EtatDeFrais, Receipt, utcnow
from core.ops.privacy import PURGED
from ocr.images import ImageRejected, check_image
from ocr.pdf import PdfRejected, page_count
from ocr.sniff import mime_type

log = logging.getLogger(__name__)

MAX_RECEIPT_BYTES = 5 * 1024 * 1024
ALLOWED_TYPES = {"image/gif": "gif", "image/jpeg": "jpeg", "image/png": "png", "application/pdf": "pdf"}
ALLOWED_LABEL = "gif, jpeg, jpg, png ou pdf"
MAX_RECEIPT_SIZE = format_size(MAX_RECEIPT_BYTES)  # "5 Mo", as every text says it
FILE_RULE = f"{ALLOWED_LABEL}, {MAX_RECEIPT_SIZE} au maximum par fichier"  # the rule in a sentence
HEIF_TYPES = {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}
PHOTO_TYPES = {"image/gif", "image/jpeg", "image/png"} | HEIF_TYPES  # what is converted or made smaller
MIN_LEGIBLE_SIDE = 1600  # a photo made smaller keeps at least this many pixels on its longest side
JPEG_QUALITY = 85
MAX_JOINED_PHOTOS = 10

pillow_heif.register_heif_opener()


def sniff_type(data: bytes) -> str | None:
    """The MIME type read from the bytes themselves (not the name, not the declared type): ``ocr.sniff`` decides."""
    return mime_type(data)


def _too_big(label: str, data: bytes) -> InvalidInput:
    advice = _LIGHTER.get(sniff_type(data) or "", _LIGHTER["image/jpeg"])
    return InvalidInput(
        f"{label} est trop volumineux ({format_size(len(data))}) : {MAX_RECEIPT_SIZE} au maximum.{advice}"
    )


def _opens(data: bytes) -> bool:
    try:
        with Image.open(BytesIO(data)) as img:
            img.size  # noqa: B018 - the header is read
        return True
    except Exception:  # noqa: BLE001 - not a readable image
        return False


def _refused(label: str, mime: str | None) -> InvalidInput:
    kind, advice = _REFUSED_KINDS.get(mime or "", (f"fichier de type {mime}" if mime else "", ""))
    found = f" ({kind})" if kind else ""
    return InvalidInput(f"{label} n'est pas un format accepté{found} : formats acceptés {ALLOWED_LABEL}.{advice}")


def check_receipt_file(data: bytes, name: str = "") -> str:
    """Accept a receipt file or raise InvalidInput saying why (French); returns the MIME type it is stored as
    (a HEIC photo or a photo over 5 MB becomes a JPEG, see :func:`prepare_file`)."""
    label = f"« {PurePath(name).name} »" if name else "Le fichier"
    if not data:
        raise InvalidInput(f"{label} est vide.")
    mime = sniff_type(data)
    if mime in PHOTO_TYPES:
        try:  # a decompression bomb is refused before anything decodes it; a HEIF photo is decoded once, below
            check_image(data, decode=mime not in HEIF_TYPES)
        except ImageRejected as exc:
            raise InvalidInput(f"{label} n'est pas accepté. {exc}") from None
    if mime in HEIF_TYPES or (len(data) > MAX_RECEIPT_BYTES and mime in PHOTO_TYPES):
        if _opens(data):
            return "image/jpeg"
        raise _too_big(label, data) if len(data) > MAX_RECEIPT_BYTES else _refused(label, mime)
    if len(data) > MAX_RECEIPT_BYTES:
        raise _too_big(label, data)
    if mime not in ALLOWED_TYPES:
        raise _refused(label, mime)
    if mime == "application/pdf":
        try:
            page_count(data)  # opens: neither damaged nor locked by a password
        except PdfRejected as exc:
            raise InvalidInput(f"{label} n'est pas accepté. {exc}") from None
    return mime


@dataclass(frozen=True)
class PreparedFile:
    """What is stored for a file sent: the bytes, their type and name, and the file as sent when converted."""

    data: bytes
    mime: str
    name: str
    original: bytes | None = None
    original_type: str | None = None


def _jpeg(img: Image.Image, scale: float = 1.0) -> bytes:
    if scale < 1:
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.LANCZOS
        )
    out = BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _as_small_jpeg(data: bytes, label: str) -> bytes:
    """The photo upright, as a JPEG of 5 MB at most, no smaller than MIN_LEGIBLE_SIDE (else refused)."""
    try:
        with Image.open(BytesIO(data)) as opened:
            img = ImageOps.exif_transpose(opened).convert("RGB")  # EXIF orientation applied: no EXIF is kept
    except Exception:  # noqa: BLE001 - undecodable: refused as it is
        raise _too_big(label, data) if len(data) > MAX_RECEIPT_BYTES else _refused(label, sniff_type(data)) from None
    scale = 1.0
    while True:
        out = _jpeg(img, scale)
        if len(out) <= MAX_RECEIPT_BYTES:
            return out
        scale *= 0.8
        if max(img.size) * scale < MIN_LEGIBLE_SIDE:
            raise InvalidInput(
                f"{label} reste trop volumineux une fois réduit sans devenir illisible : 5 Mo au maximum."
                + _LIGHTER["image/jpeg"]
            )


def prepare_file(data: bytes, name: str = "", *, checked: str | None = None) -> PreparedFile:
    """Check a file sent as a receipt and make what is stored: HEIC converted to JPEG, a photo over 5 MB
    made smaller; raises InvalidInput (French) when it cannot be accepted. ``checked``: what
    :func:`check_receipt_file` already returned for these bytes (the check decodes the file: not twice)."""
    mime = checked or check_receipt_file(data, name)
    sent = sniff_type(data)
    base = PurePath(name).name if name else ""
    if sent not in HEIF_TYPES and len(data) <= MAX_RECEIPT_BYTES:
        return PreparedFile(data, mime, base or f"justificatif.{ALLOWED_TYPES[mime]}")
    label = f"« {base} »" if base else "Le fichier"
    stem = PurePath(base).stem if base else "justificatif"
    return PreparedFile(_as_small_jpeg(data, label), "image/jpeg", f"{stem}.jpg", data, sent)


def check_photo_count(count: int) -> None:
    """Refuse (InvalidInput, French) a number of photos that cannot be joined into one file."""
    if not 2 <= count <= MAX_JOINED_PHOTOS:
        raise InvalidInput(f"Réunissez de 2 à {MAX_JOINED_PHOTOS} photos en un seul fichier.")


def join_photos(photos: list[bytes]) -> bytes:
    """Several photos of one receipt (front and back, a long ticket) as one PDF, one page each, in order."""
    check_photo_count(len(photos))
    pages = []
    for n, data in enumerate(photos, 1):
        if sniff_type(data) not in PHOTO_TYPES:
            raise InvalidInput(
                f"La pièce n° {n} n'est pas une photo (jpeg, png, gif ou heic) : elle ne peut être jointe."
            )
        with Image.open(BytesIO(data)) as opened:
            page = ImageOps.exif_transpose(opened).convert("RGB")
        page.thumbnail((2480, 3508))  # A4 at 300 dpi at most: legible, and the PDF stays light
        pages.append(page)
    for scale in (1.0, 0.8, 0.64, 0.5):
        out = BytesIO()
        sized = [p if scale == 1 else p.resize((round(p.width * scale), round(p.height * scale))) for p in pages]
        sized[0].save(out, "PDF", save_all=True, append_images=sized[1:], resolution=200, quality=JPEG_QUALITY)
        if out.tell() <= MAX_RECEIPT_BYTES:
            return out.getvalue()
    raise InvalidInput("Ces photos réunies dépassent 5 Mo : envoyez-les en plusieurs justificatifs.")


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
    "application/pkcs7-mime": (
        "message chiffré S/MIME",
        " Imag'in ne peut pas ouvrir un message chiffré : renvoyez-le sans chiffrement, justificatifs joints.",
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

    The same file sent twice to the same dossier is kept once. A HEIC photo is stored as a JPEG and a photo
    over 5 MB made smaller, the file as sent kept beside. OCR is queued after the commit.
    """
    mime = check_receipt_file(data, original_name)
    digest = sha256_hex(data)  # of the file as sent: the same photo sent again is recognised before any work
    existing = session.scalar(select(Receipt).where(Receipt.efm_id == efm.id, Receipt.sha256 == digest))
    if existing is not None:
        return existing, False
    receipt = Receipt(efm_id=efm.id, sha256=digest, source=source, source_ref=source_ref[:255])
    _store(receipt, prepare_file(data, original_name, checked=mime))
    session.add(receipt)
    session.flush()
    receipt_lines.line_of(session, receipt)
    audit.record(
        session,
        actor,
        "receipt",
        receipt.id,
        "receipt_added",
        None,
        {"efm_id": efm.id, "name": receipt.original_name, "sha256": digest, "source": source},
    )
    session.info.setdefault("ocr_after_commit", []).append(receipt.id)
    return receipt, True


def _store(receipt: Receipt, prepared: PreparedFile) -> None:
    store = receipt_store()
    receipt.storage_key = store.put(prepared.data)
    receipt.original_name = prepared.name[:255]
    receipt.detected_type = prepared.mime
    receipt.size = len(prepared.data)
    receipt.original_key = store.put(prepared.original) if prepared.original is not None else None
    receipt.original_type = prepared.original_type


def _own(session: Session, efm: EtatDeFrais, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.efm_id != efm.id:
        raise NotFound("Justificatif introuvable.")
    return receipt


def _forget_file(session: Session, key: str | None) -> None:
    """Delete stored bytes no receipt uses any more (the store is shared by content)."""
    if not key or key == PURGED:
        return
    used = session.scalar(
        select(Receipt.id).where(or_(Receipt.storage_key == key, Receipt.original_key == key)).limit(1)
    )
    if used is None:
        receipt_store().delete(key)


def remove_receipt(session: Session, efm: EtatDeFrais, receipt_id: int, actor: str) -> None:
    """The intervenant removes a receipt of a draft (its file is deleted unless another receipt has it)."""
    from core import declarations

    declarations.require_editable(efm)
    receipt = _own(session, efm, receipt_id)
    keys = (receipt.storage_key, receipt.original_key)
    audit.record(
        session,
        actor,
        "receipt",
        receipt.id,
        "receipt_removed",
        {"efm_id": efm.id, "name": receipt.original_name, "sha256": receipt.sha256},
        None,
    )
    session.delete(receipt)
    session.flush()
    for key in keys:
        _forget_file(session, key)
    receipt_lines.sync_declared_total(session, efm, actor)
    prechecks.refresh_flags(session, efm)


def replace_receipt_file(
    session: Session, efm: EtatDeFrais, receipt_id: int, data: bytes, name: str, actor: str
) -> Receipt:
    """A new file for a receipt of a draft (a sharper photo): read again, its line proposed again."""
    from core import declarations

    declarations.require_editable(efm)
    receipt = _own(session, efm, receipt_id)
    mime = check_receipt_file(data, name)
    digest = sha256_hex(data)
    other = session.scalar(
        select(Receipt).where(Receipt.efm_id == efm.id, Receipt.sha256 == digest, Receipt.id != receipt.id)
    )
    if other is not None:
        raise InvalidInput(f"Ce fichier est déjà le justificatif « {other.original_name} » de cette mission.")
    before = {"name": receipt.original_name, "sha256": receipt.sha256}
    old_keys = (receipt.storage_key, receipt.original_key)
    receipt.sha256 = digest
    _store(receipt, prepare_file(data, name, checked=mime))
    receipt.ocr_status, receipt.ocr_total, receipt.ocr_date, receipt.ocr_error = "pending", None, None, None
    receipt.ocr_confidence, receipt.ocr_attempts, receipt.phash, receipt.ocr_at = None, 0, None, None
    line = receipt_lines.line_of(session, receipt)
    session.delete(line)
    session.flush()
    session.expire(receipt, ["line"])
    receipt_lines.line_of(session, receipt)
    audit.record(
        session,
        actor,
        "receipt",
        receipt.id,
        "receipt_replaced",
        before,
        {"name": receipt.original_name, "sha256": digest},
    )
    for key in old_keys:
        _forget_file(session, key)
    prechecks.refresh_flags(session, efm)
    session.info.setdefault("ocr_after_commit", []).append(receipt.id)
    return receipt


def move_receipt(session: Session, efm: EtatDeFrais, receipt_id: int, target_efm_id: int, actor: str) -> Receipt:
    """A receipt sent for the wrong mission goes to another mission of the same person (both drafts)."""
    from core import declarations
    from core.missions import efm_of_intervenant

    receipt = _own(session, efm, receipt_id)
    target = efm_of_intervenant(session, efm.convocation.intervenant_id, target_efm_id)
    if target.id == efm.id:
        raise InvalidInput("Ce justificatif est déjà rattaché à cette mission.")
    declarations.require_editable(efm)
    declarations.require_editable(target)
    if session.scalar(select(Receipt.id).where(Receipt.efm_id == target.id, Receipt.sha256 == receipt.sha256)):
        raise InvalidInput(
            f"La mission n° {target.convocation.mission.number} a déjà ce justificatif : supprimez-le plutôt ici."
        )
    receipt.efm_id = target.id
    session.flush()
    session.expire(receipt, ["efm"])
    audit.record(session, actor, "receipt", receipt.id, "receipt_moved", {"efm_id": efm.id}, {"efm_id": target.id})
    for changed in (efm, target):
        receipt_lines.sync_declared_total(session, changed, actor)
        prechecks.refresh_flags(session, changed)
    return receipt


def move_targets(session: Session, efm: EtatDeFrais) -> list[EtatDeFrais]:
    """The other missions of the same person a receipt of this dossier can be moved to (drafts only)."""
    from core import declarations
    from core.missions import efms_of_intervenant

    targets = []
    for other in efms_of_intervenant(session, efm.convocation.intervenant_id):
        try:
            declarations.require_editable(other)
        except IllegalTransition:
            continue
        if other.id != efm.id:
            targets.append(other)
    return targets


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


def lines_text(session: Session, efm: EtatDeFrais) -> str:
    """The dossier's receipts as lines (kind, amount, what each justifies, the number that names it in an e-mail
    « remplacer justificatif n° … »), for a chat message or an e-mail."""
    views = receipt_lines.line_views(session, efm)
    lines = [f"Justificatifs de la mission n° {efm.convocation.mission.number} :"]
    lines += [f"- {v.text} (n° {v.receipt.id})" for v in views]
    if any(not v.line.settled for v in views):
        lines.append("Confirmez ou corrigez la nature et le montant de chaque justificatif dans la messagerie Imag'in.")
    return "\n".join(lines)


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
    receipt_lines.propose_from_reading(session, receipt, reading)
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
    text += "\n\n" + lines_text(session, efm)
    if receipt.source == "email":
        from core.mail.commands import HOW_TO

        text += "\n" + HOW_TO
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
