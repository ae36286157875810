"""The IMAP door (imap-tools): fetch new messages by UID, store them, and only then move (or flag) them.

One run at a time (a file lock, so two processes never poll the same mailbox), reconnects after errors.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import re
import ssl
from collections.abc import Callable
from pathlib import Path

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted

from core.db import session_scope
from core.mail.ledger import ImapRef, StoreResult, imap_uid_known, store_raw
from core.settings import Settings

log = logging.getLogger(__name__)

STORED_KEYWORD = "$ImaginStored"  # used when no processed folder is configured
TIMEOUT = 60.0
MAX_PER_RUN = 200  # messages taken per run (a large backlog is worked through run after run)
_SIZE = re.compile(rb"UID (\d+).*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*?UID (\d+)")


class ImapPoller:
    """Polls one mailbox folder; ``poll_once`` is synchronous (run it in a thread)."""

    def __init__(self, settings: Settings, on_stored: Callable[[StoreResult], None] = lambda _r: None) -> None:
        if not settings.imap_host:
            raise ValueError("IMAGIN_IMAP_HOST is not set")
        self.settings = settings
        self.on_stored = on_stored
        self.account = f"{settings.imap_user}@{settings.imap_host}:{settings.imap_port}"
        self.lock_path = Path(settings.data_dir) / f"imap-{re.sub(r'[^A-Za-z0-9_.-]', '_', self.account)}.lock"
        self._mailbox: BaseMailBox | None = None

    # -------------------------------------------------------------- connection
    def _connect(self) -> BaseMailBox:
        s = self.settings
        if s.imap_security == "none":
            box: BaseMailBox = MailBoxUnencrypted(s.imap_host, s.imap_port, timeout=TIMEOUT)
        elif s.imap_security == "starttls":
            box = MailBoxStartTls(s.imap_host, s.imap_port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
        else:
            box = MailBox(s.imap_host, s.imap_port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
        password = s.imap_password.get_secret_value() if s.imap_password else ""
        box.login(s.imap_user, password, initial_folder=None)
        for folder in (s.imap_processed_folder, s.imap_rejected_folder):
            if folder and not box.folder.exists(folder):
                box.folder.create(folder)
        return box

    def close(self) -> None:
        if self._mailbox is not None:
            try:
                self._mailbox.logout()
            except Exception:  # noqa: BLE001 - connection already gone
                pass
            self._mailbox = None

    # -------------------------------------------------------------- one run
    def poll_once(self) -> int:
        """Store every new message of the folder; returns how many were taken. Skips if another run holds
        the lock. Raises on connection errors (the caller reconnects)."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("IMAP poll skipped: another run holds %s", self.lock_path)
                return 0
            try:
                return self._poll_locked()
            except Exception:
                self.close()
                raise

    def _poll_locked(self) -> int:
        if self._mailbox is None:
            self._mailbox = self._connect()
        box, s = self._mailbox, self.settings
        uidvalidity = int(box.folder.status(s.imap_folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        box.folder.set(s.imap_folder)
        criteria = "ALL" if s.imap_processed_folder else f"UNKEYWORD {STORED_KEYWORD}"
        uids = sorted(box.uids(criteria), key=int)[:MAX_PER_RUN]
        sizes = self._sizes(box, uids)
        taken = 0
        for uid in uids:
            ref = ImapRef(self.account, s.imap_folder, uidvalidity, int(uid))
            with session_scope() as session:
                known = imap_uid_known(session, ref)
            if not known:
                if sizes.get(uid, 0) > s.smtp_max_message_bytes:
                    log.warning(
                        "IMAP message %s is too large (%s bytes): moved to %s",
                        uid,
                        sizes[uid],
                        s.imap_rejected_folder,
                    )
                    if s.imap_rejected_folder:
                        box.move(uid, s.imap_rejected_folder)
                    continue
                raw = self._fetch_raw(box, uid)
                if raw is None:
                    continue  # expunged meanwhile
                result = store_raw(raw, source="imap", imap=ref)  # durable before the message is moved
                self.on_stored(result)
                taken += 1
            self._done(box, uid)
        return taken

    def _done(self, box: BaseMailBox, uid: str) -> None:
        if self.settings.imap_processed_folder:
            box.move(uid, self.settings.imap_processed_folder)
        else:
            box.flag(uid, STORED_KEYWORD, True)

    @staticmethod
    def _sizes(box: BaseMailBox, uids: list[str]) -> dict[str, int]:
        if not uids:
            return {}
        typ, data = box.client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
        sizes: dict[str, int] = {}
        for item in data or []:
            line = item[0] if isinstance(item, tuple) else item
            m = _SIZE.search(line or b"")
            if m:
                uid, size = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                sizes[uid.decode()] = int(size)
        return sizes

    @staticmethod
    def _fetch_raw(box: BaseMailBox, uid: str) -> bytes | None:
        typ, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
        if typ != "OK":
            raise RuntimeError(f"IMAP FETCH {uid} failed: {typ} {data!r}")
        for item in data or []:
            if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    # -------------------------------------------------------------- loop
    async def run(self, stop: asyncio.Event) -> None:
        """Poll every ``imap_poll_seconds`` until ``stop``; after an error, reconnect with backoff."""
        failures = 0
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.poll_once)
                failures = 0
                delay = self.settings.imap_poll_seconds
            except Exception as exc:  # noqa: BLE001 - server down, network...: reconnect later
                failures += 1
                delay = min(self.settings.imap_poll_seconds, 2.0**failures)
                log.warning("IMAP poll failed (%s), retrying in %.0f s", exc, delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
        await asyncio.to_thread(self.close)
