"""Data protection: the retention purge and the export of everything held about one person.

Purge (``imagin purge``): receipts and raw mail older than ``IMAGIN_RETENTION_DAYS`` whose dossier is
closed (both parts sent to payment, rejected, cancelled or without costs) and unchanged for that long
lose their bytes: files are deleted from the stores (unless another live row still refers to the same
content), rows are kept for the dossier's history with their storage key set to ``PURGED`` and an audit
entry. Raw mail matched to no dossier is purged on age alone. Files go first, then the rows are marked
and committed, batch by batch: an interrupted purge is simply run again.

Export (``imagin export-person``): a zip with ``personne.json`` (every row about the person: identity,
addresses, convocations, déclarations, trips, attestations, decisions, flags, receipts, mails,
notifications, conversation state, audit entries) and the receipt files and raw mails themselves.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound
from core.filestore import FileStore, mail_store, receipt_store
from core.models import (
    AuditEntry,
    Convocation,
    Decision,
    EtatDeFrais,
    Flag,
    InboundMail,
    Intervenant,
    IntervenantEmail,
    LoginAttempt,
    MailAttachment,
    Mission,
    OutboxMessage,
    Receipt,
    ServiceFait,
    Trip,
    utcnow,
)
from core.models.bot_state import BotState
from core.settings import get_settings
from core.statuses import PartStatus

log = logging.getLogger(__name__)

PURGED = "purged"  # storage key of a receipt / raw mail whose bytes were deleted by the retention purge
ACTOR = "system:retention"
BATCH = 200
CLOSED = (PartStatus.SENT_TO_PAYMENT, PartStatus.REJECTED, PartStatus.CANCELLED, PartStatus.NO_COSTS)
DONE_MAIL_STATES = ("processed", "quarantined", "failed")


# ------------------------------------------------------------------------------------------------ purge


@dataclass
class PurgeReport:
    cutoff: datetime
    receipts: int = 0  # rows marked purged
    mails: int = 0
    files_deleted: int = 0
    dry_run: bool = False


def _closed_dossiers(cutoff: datetime) -> Select[int]:
    return select(EtatDeFrais.id).where(
        EtatDeFrais.pay_status.in_(CLOSED), EtatDeFrais.travel_status.in_(CLOSED), EtatDeFrais.updated_at < cutoff
    )


def _receipt_key_live(session: Session, key: str, excluding: Iterable[int]) -> bool:
    used = or_(Receipt.storage_key == key, Receipt.original_key == key)
    return bool(session.scalar(select(exists().where(used, Receipt.id.not_in(list(excluding))))))


def _mail_key_live(session: Session, key: str, excluding: Iterable[int]) -> bool:
    ids = list(excluding)
    raw = exists().where(InboundMail.raw_key == key, InboundMail.id.not_in(ids))
    att = exists().where(
        MailAttachment.sha256 == key,
        MailAttachment.mail_id.not_in(ids),
        MailAttachment.mail_id.in_(select(InboundMail.id).where(InboundMail.raw_key != PURGED)),
    )
    return bool(session.scalar(select(raw))) or bool(session.scalar(select(att)))


def _delete(store: FileStore, key: str, dry_run: bool) -> int:
    if not store.exists(key):
        return 0
    if not dry_run:
        store.delete(key)
    return 1


def _purge_receipts(session: Session, cutoff: datetime, report: PurgeReport, after_id: int) -> int | None:
    batch = list(
        session.scalars(
            select(Receipt)
            .where(
                Receipt.id > after_id,
                Receipt.storage_key != PURGED,
                Receipt.created_at < cutoff,
                Receipt.efm_id.in_(_closed_dossiers(cutoff)),
            )
            .order_by(Receipt.id)
            .limit(BATCH)
        )
    )
    if not batch:
        return None
    store = receipt_store()
    ids = [r.id for r in batch]
    keys = {r.storage_key for r in batch} | {r.original_key for r in batch if r.original_key}  # and files as sent
    for key in keys:
        if not _receipt_key_live(session, key, ids):
            report.files_deleted += _delete(store, key, report.dry_run)
    for r in batch:
        audit.record(
            session,
            ACTOR,
            "receipt",
            r.id,
            "receipt_purged",
            {"storage_key": r.storage_key},
            {"storage_key": PURGED, "retention_cutoff": cutoff.isoformat()},
        )
        r.storage_key, r.original_key = PURGED, None
    report.receipts += len(batch)
    return batch[-1].id


def _purge_mails(session: Session, cutoff: datetime, report: PurgeReport, after_id: int) -> int | None:
    batch = list(
        session.scalars(
            select(InboundMail)
            .where(
                InboundMail.id > after_id,
                InboundMail.raw_key != PURGED,
                InboundMail.received_at < cutoff,
                InboundMail.state.in_(DONE_MAIL_STATES),
                or_(InboundMail.efm_id.is_(None), InboundMail.efm_id.in_(_closed_dossiers(cutoff))),
            )
            .order_by(InboundMail.id)
            .limit(BATCH)
        )
    )
    if not batch:
        return None
    store = mail_store()
    ids = [m.id for m in batch]
    keys = {m.raw_key for m in batch} | set(
        session.scalars(select(MailAttachment.sha256).where(MailAttachment.mail_id.in_(ids)))
    )
    for key in keys:
        if not _mail_key_live(session, key, ids):
            report.files_deleted += _delete(store, key, report.dry_run)
    for m in batch:
        audit.record(
            session,
            ACTOR,
            "inbound_mail",
            m.id,
            "mail_purged",
            {"raw_key": m.raw_key},
            {"raw_key": PURGED, "retention_cutoff": cutoff.isoformat()},
        )
        m.raw_key = PURGED
    report.mails += len(batch)
    return batch[-1].id


def purge(
    session_factory: Callable[[], AbstractContextManager[Session]],
    *,
    retention_days: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeReport:
    """Purge what is past retention; one transaction per batch (``session_factory``: ``session_scope``).

    ``dry_run`` counts what would go without deleting or marking anything.
    """
    days = get_settings().retention_days if retention_days is None else retention_days
    if days < 1:
        raise ValueError("retention must be at least one day")
    report = PurgeReport(cutoff=(now or utcnow()) - timedelta(days=days), dry_run=dry_run)
    for step in (_purge_receipts, _purge_mails):
        last: int | None = 0
        while last is not None:
            with session_factory() as session:
                last = step(session, report.cutoff, report, last)
                if dry_run:
                    session.rollback()
    log.info(
        "retention purge: %s receipt(s), %s mail(s), %s file(s) deleted (cutoff %s)%s",
        report.receipts,
        report.mails,
        report.files_deleted,
        report.cutoff,
        " [dry run]" if dry_run else "",
    )
    return report


# ----------------------------------------------------------------------------------------------- export


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def row_dict(obj: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every column of an ORM row as JSON-safe values."""
    return {c.key: _plain(getattr(obj, c.key)) for c in obj.__mapper__.column_attrs if c.key not in skip}


def find_person(session: Session, ident: str) -> Intervenant:
    """An intervenant by numéro, identifiant Imag'in, e-mail address or Telegram user id."""
    ident = ident.strip()
    conditions = [
        Intervenant.numero == ident,
        Intervenant.imagin_id == ident,
        Intervenant.id.in_(select(IntervenantEmail.intervenant_id).where(IntervenantEmail.address == ident.lower())),
    ]
    if ident.isdigit():
        conditions.append(Intervenant.telegram_user_id == int(ident))
    person = session.scalar(select(Intervenant).where(or_(*conditions)))
    if person is None:
        raise NotFound(
            f"Aucun intervenant ne correspond à « {ident} » (exemple : numéro N12345, identifiant "
            "Imag'in ou adresse e-mail)."
        )
    return person


def _login_keys(person: Intervenant) -> list[str]:
    """Throttling keys that name this person (core.accounts: "id:<identifier>", "origin:chat:<id>")."""
    keys = [f"id:{ident.lower()}" for ident in (person.numero, person.imagin_id) if ident]
    if person.telegram_user_id:
        keys.append(f"origin:chat:{person.telegram_user_id}")
    return keys


def _redis_state(telegram_user_id: int) -> list[dict[str, Any]]:
    """The bot's conversation keys about this user in Redis (when the bot keeps its state there)."""
    url = get_settings().redis_url
    if not url:
        return []
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        found = []
        for key in client.scan_iter(match=f"fsm:*:{telegram_user_id}:*", count=500):
            value = client.get(key) if client.type(key) == "string" else None
            found.append({"key": key, "value": value})
        return found
    finally:
        client.close()


@dataclass
class PersonExport:
    data: dict[str, Any]
    files: list[tuple[str, FileStore, str]] = field(default_factory=list)  # (name in zip, store, key)


def collect_person(session: Session, person: Intervenant) -> PersonExport:
    """Everything held about ``person``, as JSON-safe data plus the files to include."""
    addresses = [e.address for e in person.emails]
    convocations = list(session.scalars(select(Convocation).where(Convocation.intervenant_id == person.id)))
    efm_ids = list(
        session.scalars(select(EtatDeFrais.id).where(EtatDeFrais.convocation_id.in_([c.id for c in convocations])))
    )

    def rows(model: Any, *where: Any, skip: Iterable[str] = ()) -> list[dict[str, Any]]:
        return [row_dict(o, skip) for o in session.scalars(select(model).where(*where).order_by(model.id))]

    receipts = list(session.scalars(select(Receipt).where(Receipt.efm_id.in_(efm_ids)).order_by(Receipt.id)))
    mails = list(
        session.scalars(
            select(InboundMail)
            .where(
                or_(
                    InboundMail.intervenant_id == person.id,
                    InboundMail.efm_id.in_(efm_ids),
                    InboundMail.from_address.in_(addresses),
                )
            )
            .order_by(InboundMail.id)
        )
    )
    mail_ids = [m.id for m in mails]
    recipients = [*addresses, *([str(person.telegram_user_id)] if person.telegram_user_id else [])]
    trip_ids = list(session.scalars(select(Trip.id).where(Trip.efm_id.in_(efm_ids))))
    entities = [
        ("intervenant", [person.id]),
        ("etat_de_frais", efm_ids),
        ("trip", trip_ids),
        ("receipt", [r.id for r in receipts]),
        ("inbound_mail", mail_ids),
    ]
    audit_where = or_(
        *[(AuditEntry.entity == name) & AuditEntry.entity_id.in_(ids) for name, ids in entities],
        AuditEntry.actor == f"intervenant:{person.id}",
    )
    bot_keys: list[dict[str, Any]] = []
    if person.telegram_user_id:
        bot_keys = rows(BotState, BotState.key.like(f"%:{person.telegram_user_id}:%")) + _redis_state(
            person.telegram_user_id
        )
    data = {
        "exported_at": utcnow().isoformat(),
        "personne": row_dict(person, skip={"password_hash", "intake_token"}),
        "adresses_email": addresses,
        "convocations": [
            {**row_dict(c), "mission": row_dict(session.get(Mission, c.mission_id))} for c in convocations
        ],
        "etats_de_frais": rows(EtatDeFrais, EtatDeFrais.id.in_(efm_ids)),
        "trajets": rows(Trip, Trip.efm_id.in_(efm_ids)),
        "service_fait": rows(ServiceFait, ServiceFait.efm_id.in_(efm_ids)),
        "decisions": rows(Decision, Decision.efm_id.in_(efm_ids)),
        "alertes": rows(Flag, Flag.efm_id.in_(efm_ids)),
        "justificatifs": [row_dict(r) for r in receipts],
        "courriels": [{**row_dict(m), "pieces_jointes": [row_dict(a) for a in m.attachments]} for m in mails],
        "notifications": rows(OutboxMessage, OutboxMessage.recipient.in_(recipients)),
        "etat_conversation": bot_keys,
        "tentatives_connexion": rows(LoginAttempt, LoginAttempt.key.in_(_login_keys(person))),
        "journal": rows(AuditEntry, audit_where),
    }
    export = PersonExport(data)
    for r in receipts:
        if r.storage_key != PURGED:
            export.files.append((f"justificatifs/{r.id}-{Path(r.original_name).name}", receipt_store(), r.storage_key))
    for m in mails:
        if m.raw_key != PURGED:
            export.files.append((f"courriels/{m.id}.eml", mail_store(), m.raw_key))
    return export


def export_person(session: Session, ident: str, target: Path) -> PersonExport:
    """Write the zip of everything about the person ``ident`` to ``target``; the audit log records it."""
    person = find_person(session, ident)
    export = collect_person(session, person)
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("personne.json", json.dumps(export.data, indent=2, ensure_ascii=False, default=str))
        for name, store, key in export.files:
            if store.exists(key):
                zf.writestr(name, store.get(key))
    audit.record(
        session, "system:cli", "intervenant", person.id, "personal_data_exported", None, {"files": len(export.files)}
    )
    return export
