"""kill -9 of the service during a burst of deliveries loses no message that was answered 250."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import select

from core.filestore import mail_store, sha256_hex
from core.models import InboundMail, MailState
from core.settings import get_settings
from tests.mail import factory
from tests.mail.conftest import INTAKE, wait_for, wait_port

ROOT = Path(__file__).resolve().parents[2]
SENDERS = 3
KILL_AFTER = 30  # acknowledged messages before the kill


def start(log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mail_ingest"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def burst(port: int, acked: dict[str, bytes], stop: threading.Event, seed: int) -> None:
    """Deliver messages one per connection until the server disappears; remember the 250-answered ones."""
    n = 0
    while not stop.is_set():
        n += 1
        msg = factory.message(
            subject=f"Mission DEMO-301 lot {seed}-{n}",
            attachments=[(factory.pdf_bytes(f"recu {seed}-{n}"), f"r{n}.pdf", "application/pdf")],
        )
        raw = factory.wire(msg)
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.ehlo()
                client.mail("ines.leroy@example.org")
                client.rcpt(INTAKE)
                code, _ = client.data(raw)
        except (OSError, smtplib.SMTPException):
            return  # the server is gone
        if code == 250:
            acked[msg["Message-ID"]] = raw


def test_kill_9_during_a_burst_loses_no_acknowledged_message(mail_env, tmp_path):
    port = get_settings().smtp_port
    log = tmp_path / "service.log"
    proc = start(log)
    acked: dict[str, bytes] = {}
    stop = threading.Event()
    try:
        wait_port(port, 60)
        threads = [threading.Thread(target=burst, args=(port, acked, stop, i)) for i in range(SENDERS)]
        for t in threads:
            t.start()
        wait_for(lambda: len(acked) >= KILL_AFTER, 120, "acknowledged deliveries")
        proc.send_signal(signal.SIGKILL)  # mid-burst: senders are still talking to it
        proc.wait(10)
        stop.set()
        for t in threads:
            t.join(30)
        assert len(acked) >= KILL_AFTER
        with mail_env() as session:
            stored = {m.message_id: m for m in session.scalars(select(InboundMail))}
        missing = [mid for mid in acked if mid not in stored]
        assert missing == [], f"acknowledged but not in the ledger: {missing}"
        store = mail_store()
        for mid, raw in acked.items():
            assert store.exists(stored[mid].raw_key)
            assert store.get(stored[mid].raw_key) == raw and stored[mid].raw_key == sha256_hex(raw)

        proc = start(log)  # restart: every stored message gets processed
        wait_port(port, 60)

        def all_done() -> bool:
            with mail_env() as session:
                states = [m.state for m in session.scalars(select(InboundMail))]
            return all(s not in (MailState.RECEIVED, MailState.PROCESSING) for s in states)

        wait_for(all_done, 120, "processing after restart")
        with mail_env() as session:
            done = {m.message_id: m.state for m in session.scalars(select(InboundMail))}
        assert all(done[mid] == MailState.PROCESSED for mid in acked), log.read_text()[-3000:]
    finally:
        stop.set()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(20)
