"""The inbound mail ledger: durable storing before acknowledgement (raw bytes fsync'd, row committed,
grouped commits for concurrent deliveries), the ledger key, and the work queue of the pipeline (claims
with leases, crash recovery, retries with backoff).
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import re
import socket
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Any

from sqlalchemy import Connection, Table, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core import audit, leases, outbox
from core.db import get_engine, session_scope
from core.errors import NotFound
from core.filestore import mail_store
from core.mail import policy as reply_policy
from core.mail import replies as mail_replies
from core.models import Base, InboundMail, MailState, utcnow

log = logging.getLogger(__name__)

ACTOR = "system:mail"
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
# Headers that identify a message regardless of the path it took (trace headers excluded).
IDENTITY_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "content-type")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


# ---------------------------------------------------------------------------------------------- storing


@dataclass(frozen=True)
class StoreResult:
    mail_id: int
    duplicate: bool  # the same message (Message-ID and content) was already in the ledger


@dataclass(frozen=True)
class ImapRef:
    account: str
    folder: str
    uidvalidity: int
    uid: int


def _split(raw: bytes) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at != -1:
            return raw[:at], raw[at + len(sep) :]
    return raw, b""


def message_identity(raw: bytes) -> tuple[str, str]:
    """(Message-ID, content SHA-256): the ledger key.

    The hash covers the identifying headers and the body, not the trace headers a relay or a mailbox
    adds (Received, Delivered-To...), so the same message delivered twice has the same key, while any
    change of sender, subject, date or body makes a different one.
    """
    head, body = _split(raw)
    headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n")
    digest = hashlib.sha256()
    for name in IDENTITY_HEADERS:
        for value in headers.get_all(name) or []:
            digest.update(name.encode() + b":" + " ".join(str(value).split()).encode("utf-8", "replace") + b"\n")
    digest.update(b"\n")
    digest.update(body.replace(b"\r\n", b"\n").rstrip())  # line ends differ between SMTP and mailboxes
    return column_text(str(headers.get("message-id", "")), 255), digest.hexdigest()


def column_text(value: str, limit: int) -> str:
    """Text from the wire fit for a database column: 8-bit bytes (surrogate escapes) decoded, NUL and
    other control characters removed (PostgreSQL refuses NUL, SQLite refuses lone surrogates), cut."""
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return " ".join(_CONTROLS.sub(" ", value).split())[:limit]


def prepare_raw(
    raw: bytes,
    *,
    source: str,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
    peer: str = "",
    imap: ImapRef | None = None,
) -> dict[str, Any]:
    """Write the raw bytes durably (fsync'd) and return the ledger row to commit for them."""
    message_id, content_sha = message_identity(raw)
    values: dict[str, Any] = dict(
        message_id=message_id,
        content_sha256=content_sha,
        raw_key=mail_store().put(raw),  # durable before the row that points to it is committed
        size=len(raw),
        source=source,
        envelope_from=column_text(envelope_from, 320),
        envelope_to=",".join(column_text(a, 320) for a in envelope_to),
        peer=column_text(peer, 100),
        state=MailState.RECEIVED.value,
        attempts=0,
        subject="",
        match_evidence="",
        received_at=utcnow(),
    )
    if imap is not None:
        values.update(
            imap_account=imap.account,
            imap_folder=imap.folder,
            imap_uidvalidity=imap.uidvalidity,
            imap_uid=imap.uid,
        )
    return values


def commit_rows(rows: Sequence[dict[str, Any]]) -> list[StoreResult]:
    """Insert prepared ledger rows in one transaction (one commit, one fsync) and commit it.

    A row whose Message-ID and content are already in the ledger is not inserted: its result points
    to the existing row, marked duplicate. Raises (nothing committed) if the database fails.
    """
    table = Base.metadata.tables[InboundMail.__tablename__]
    with get_engine().connect() as conn:  # Core, not the ORM: this runs before every SMTP 250
        dialect = conn.dialect.name
        if dialect == "sqlite":  # WAL with synchronous=NORMAL may lose the last commits on power loss
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
            conn.commit()
        try:
            with conn.begin():
                return [_insert_once(conn, table, dialect, row) for row in rows]
        finally:
            if dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()


def _insert_once(conn: Connection, table: Table, dialect: str, row: dict[str, Any]) -> StoreResult:
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL); a conflict means a duplicate."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(**row)
    stmt = stmt.on_conflict_do_nothing(index_elements=["message_id", "content_sha256"])
    new_id = conn.execute(stmt.returning(table.c.id)).scalar()
    if new_id is not None:
        return StoreResult(new_id, False)
    existing = conn.execute(
        select(table.c.id).where(
            table.c.message_id == row["message_id"], table.c.content_sha256 == row["content_sha256"]
        )
    ).scalar()
    if existing is None:
        raise RuntimeError("ledger row neither inserted nor found")
    return StoreResult(existing, True)


def store_raw(
    raw: bytes,
    *,
    source: str,
    envelope_from: str = "",
    envelope_to: Sequence[str] = (),
    peer: str = "",
    imap: ImapRef | None = None,
) -> StoreResult:
    """Store the raw bytes durably, then insert and commit the ledger row (or find the existing one).

    Returning means the message is safe: only then may the SMTP server answer 250 or the IMAP poller
    move the message. Any exception means it is not stored.
    """
    row = prepare_raw(raw, source=source, envelope_from=envelope_from, envelope_to=envelope_to, peer=peer, imap=imap)
    return commit_rows([row])[0]


class LedgerWriter:
    """Group commit for concurrent deliveries: each caller prepares its row (file written and fsync'd in
    its own thread), then waits for the one transaction that commits the rows queued meanwhile."""

    def __init__(self, max_batch: int = 64) -> None:
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Future[StoreResult]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread = self._new_thread()

    def _new_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        thread.start()
        return thread

    def store(self, raw: bytes, **options: Any) -> StoreResult:
        """Like ``store_raw`` (blocking until committed), sharing commits with concurrent callers."""
        future: Future[StoreResult] = Future()
        row = prepare_raw(raw, **options)
        with self._lock:
            if not self._thread.is_alive():  # never leave deliveries waiting on a dead writer
                self._thread = self._new_thread()
            self._queue.put((row, future))
        return future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(30)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            try:
                results = commit_rows([row for row, _ in batch])
            except Exception:  # noqa: BLE001 - one row may be at fault: commit the others one by one
                for row, future in batch:
                    self._commit_alone(row, future)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)

    @staticmethod
    def _commit_alone(row: dict[str, Any], future: Future[StoreResult]) -> None:
        try:
            future.set_result(commit_rows([row])[0])
        except Exception as exc:  # noqa: BLE001 - this delivery gets the error (451: retried by the sender)
            future.set_exception(exc)


def _header_sender(raw_key: str) -> str | None:
    """The From address read straight from the stored headers (when processing never got that far)."""
    try:
        head, _ = _split(mail_store().get(raw_key))
        value = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n").get("from", "")
        addresses = [a for _, a in getaddresses([str(value)[:1000]]) if "@" in a]
    except Exception:  # noqa: BLE001 - missing file or unreadable headers: nobody to answer
        return None
    return usable_address(addresses[0]) if addresses else None


def imap_uid_known(session: Session, ref: ImapRef) -> bool:
    """Whether this mailbox message (by UIDVALIDITY and UID) is already in the ledger."""
    return (
        session.scalar(
            select(InboundMail.id)
            .where(
                InboundMail.imap_account == ref.account,
                InboundMail.imap_folder == ref.folder,
                InboundMail.imap_uidvalidity == ref.uidvalidity,
                InboundMail.imap_uid == ref.uid,
            )
            .limit(1)
        )
        is not None
    )


def load_raw(mail_id: int) -> bytes:
    """The raw bytes of a ledger message."""
    with session_scope() as session:
        mail = session.get(InboundMail, mail_id)
        if mail is None:
            raise NotFound("Message introuvable.")
        key = mail.raw_key
    return mail_store().get(key)


# ------------------------------------------------------------------------------------ work queue


def worker_id() -> str:
    """Who holds a lease: host and process id, so a restarted process can tell its dead predecessors."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(holder: str | None) -> bool:
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's worker: only its lease expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True


def release_stale() -> int:
    """At start-up: give back at once the messages claimed by dead processes of this host (a crash);
    other claims are taken over when their lease expires. Returns how many were released."""
    with session_scope() as session:
        claimed = session.execute(
            select(InboundMail.id, InboundMail.locked_by).where(InboundMail.state == MailState.PROCESSING)
        ).all()
        dead = [mail_id for mail_id, holder in claimed if not _alive(holder)]
        if dead:
            session.execute(
                update(InboundMail)
                .where(InboundMail.id.in_(dead), InboundMail.state == MailState.PROCESSING)
                .values(state=MailState.RECEIVED, locked_until=None, locked_by=None, next_attempt_at=None)
            )
        return len(dead)


def claim_due(limit: int = 10) -> list[int]:
    """Lease up to ``limit`` messages waiting for processing (new, to retry, or with an expired lease)."""
    now, me = utcnow(), worker_id()
    due = or_(
        and_(
            InboundMail.state == MailState.RECEIVED,
            or_(InboundMail.next_attempt_at.is_(None), InboundMail.next_attempt_at <= now),
        ),
        and_(InboundMail.state == MailState.PROCESSING, InboundMail.locked_until < now),
    )
    with session_scope() as session:
        return leases.claim(
            session,
            InboundMail.id,
            due,
            limit=limit,
            lease=LEASE,
            now=now,
            values={"state": MailState.PROCESSING, "locked_by": me, "attempts": InboundMail.attempts + 1},
        )


def record_failure(mail_id: int, error: str) -> None:
    """A processing attempt failed: retry later with backoff, or give up (kept for the DEC, sender told)."""
    with session_scope() as session:
        mail = session.get(InboundMail, mail_id)
        if mail is None or mail.state not in (MailState.PROCESSING, MailState.RECEIVED):
            return
        mail.last_error = error[:4000]
        mail.locked_until = None
        mail.locked_by = None
        if mail.attempts < MAX_ATTEMPTS:
            mail.state = MailState.RECEIVED
            mail.next_attempt_at = utcnow() + timedelta(seconds=min(15 * 2**mail.attempts, 3600))
            return
        mail.state = MailState.FAILED
        mail.quarantine_reason = "Le traitement automatique a échoué à plusieurs reprises."
        mail.processed_at = utcnow()
        audit.record(session, ACTOR, "inbound_mail", mail.id, "mail_failed", None, {"error": error[:500]})
        address = mail.from_address or usable_address(mail.envelope_from) or _header_sender(mail.raw_key)
        if address and reply_policy.is_known_address(session, address) and reply_policy.within_rate(session, address):
            # the message could not be read: only an address on record is answered (no backscatter)
            queue_reply(session, mail, address, mail_replies.failed_text(subject=mail.subject))


# ---------------------------------------------------------------------------------------------- answers


def queue_reply(
    session: Session, mail: InboundMail, address: str, text: str, *, references: Sequence[str] = ()
) -> None:
    """Queue the (single) answer to this message for the mailer, threaded under it (In-Reply-To, References:
    the message's own thread then the message). Whether to answer at all is ``core.mail.policy``'s call."""
    payload = None
    if mail.message_id:
        payload = {"in_reply_to": mail.message_id, "references": [*references, mail.message_id]}
    outbox.enqueue(
        session,
        channel="email",
        recipient=address,
        kind=reply_policy.REPLY_KIND,
        subject=mail_replies.subject_for(mail.subject),
        text=text,
        payload=payload,
        dedupe_key=f"mail_reply:{mail.id}",
    )


def usable_address(address: str | None) -> str | None:
    """An envelope address as a reply target, or None (empty, the null sender ``<>`` of bounces, garbled)."""
    address = (address or "").strip().strip("<>").lower()
    plausible = "@" in address and len(address) <= 254 and not any(c.isspace() or c in '"<>,;' for c in address)
    return address if plausible else None
