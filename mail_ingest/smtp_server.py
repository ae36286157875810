"""The SMTP door (aiosmtpd): accepts mail for the intake addresses only and answers 250 only once the
raw message and its ledger row are committed (451 otherwise, so the sender retries)."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from core.mail.intake import personal_tokens
from core.mail.ledger import LedgerWriter, StoreResult
from core.settings import Settings

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 20
STORE_TIMEOUT = 60.0  # seconds for the durable store before answering 451


def accepts_recipient(address: str, intake_addresses: list[str]) -> bool:
    """An intake address, or a personal plus-address of one (``recus+token@domain``)."""
    address = address.strip().strip("<>").lower()
    return address in intake_addresses or bool(personal_tokens([address]))


@dataclass
class IntakeHandler:
    """aiosmtpd handler: RCPT filtering and a durable DATA step (file fsync'd in a worker thread, then the
    ledger row committed, grouped with concurrent deliveries) before 250."""

    intake_addresses: list[str]
    on_stored: Callable[[StoreResult], None] = lambda _result: None
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "smtp-store"))
    writer: LedgerWriter = field(default_factory=LedgerWriter)  # group commit of concurrent deliveries
    last_data_at: float = -1e9  # monotonic time of the last DATA step

    def busy(self, window: float = 0.25) -> bool:
        """Whether a message was being delivered in the last ``window`` seconds."""
        return time.monotonic() - self.last_data_at < window

    def close(self) -> None:
        self.writer.close()
        self.executor.shutdown(wait=True)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not accepts_recipient(address, self.intake_addresses):
            return "550 5.1.1 Unknown recipient: this server only accepts receipts for the intake address"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes | bytearray) or not raw:
            return "554 5.6.0 Empty message"
        self.last_data_at = time.monotonic()
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        loop = asyncio.get_running_loop()
        store = loop.run_in_executor(
            self.executor,
            lambda: self.writer.store(
                bytes(raw),
                source="smtp",
                envelope_from=envelope.mail_from or "",
                envelope_to=[a.lower() for a in envelope.rcpt_tos],
                peer=peer,
            ),
        )
        try:
            # if the store finishes after the timeout, the sender's retry is recognised as a duplicate
            result = await asyncio.wait_for(asyncio.shield(store), timeout=STORE_TIMEOUT)
        except Exception:
            log.exception("could not store a message from %s: answering 451", peer)
            return "451 4.3.0 Temporary failure storing the message, please retry later"
        self.last_data_at = time.monotonic()
        self.on_stored(result)
        if result.duplicate:
            return "250 2.0.0 Already received, thank you"
        return f"250 2.0.0 Message accepted (ref {result.mail_id})"


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Server TLS context for STARTTLS when a certificate and key are configured."""
    if not (settings.smtp_tls_cert and settings.smtp_tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(settings.smtp_tls_cert), str(settings.smtp_tls_key))
    return context


class Authenticator:
    """LOGIN/PLAIN check against ``IMAGIN_SMTP_USERS`` ("login:argon2-hash;..."; plain text tolerated)."""

    def __init__(self, users_spec: str) -> None:
        from argon2 import PasswordHasher

        self._hasher = PasswordHasher()
        self._users: dict[str, str] = {}
        for entry in re.split(r"[\s;]+", users_spec):
            login, sep, secret = entry.strip().partition(":")
            if sep and login:
                self._users[login] = secret

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        secret = self._users.get(login)
        return AuthResult(success=secret is not None and self._check(secret, password), handled=False)

    def _check(self, secret: str, password: str) -> bool:
        if secret.startswith("$argon2"):
            try:
                return self._hasher.verify(secret, password)
            except Exception:  # noqa: BLE001 - mismatch or malformed hash
                return False
        import hmac

        return hmac.compare_digest(secret.encode(), password.encode())


class IntakeSMTP(SMTP):
    """aiosmtpd's SMTP with message lines allowed up to the message size limit: RFC 5321 caps them at 1000
    octets, but real senders exceed it (a 100k header, base64 on one line, bare-LF line ends, which make
    the whole message one line) and refusing the message with "500 Line too long" would lose it."""

    def __init__(self, handler: object, *, line_length_limit: int, **options: Any) -> None:
        self.line_length_limit = line_length_limit  # read by SMTP.__init__ to size its stream reader
        super().__init__(handler, **options)


def smtp_factory(handler: IntakeHandler, settings: Settings, hostname: str | None = None) -> Callable[[], SMTP]:
    """A protocol factory for ``loop.create_server`` with the configured limits, TLS and AUTH."""
    context = tls_context(settings)
    users = settings.smtp_users.get_secret_value() if settings.smtp_users else ""
    authenticator = Authenticator(users) if users else None
    if settings.smtp_require_auth and authenticator is None:
        raise ValueError("IMAGIN_SMTP_REQUIRE_AUTH is set but IMAGIN_SMTP_USERS is empty")

    def factory() -> SMTP:
        return IntakeSMTP(
            handler,
            line_length_limit=settings.smtp_max_message_bytes + 2,
            data_size_limit=settings.smtp_max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=hostname,
            ident="Imagin intake",
            tls_context=context,
            require_starttls=context is not None and settings.smtp_require_auth,
            timeout=settings.smtp_timeout_seconds,
            authenticator=authenticator,
            auth_required=settings.smtp_require_auth,
            auth_require_tls=context is not None,
        )

    return factory


async def start_smtp_server(handler: IntakeHandler, settings: Settings, host: str, port: int) -> asyncio.AbstractServer:
    """Listen on ``host:port`` in the running loop."""
    # aiosmtpd logs every sender and recipient at INFO: personal data, and noise at any real volume
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(smtp_factory(handler, settings), host=host, port=port)
    log.info("SMTP intake listening on %s:%s", host, port)
    return server
