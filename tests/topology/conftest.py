"""The production topology under test: PostgreSQL + Redis of the project machine, roles in their own
processes (``imagin run --role ...``), a shared data directory, and a TCP proxy to cut the database."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from fpdf import FPDF

from tests.net import Sink, free_port, running_sink

ROOT = Path(__file__).resolve().parents[2]
IMAGIN = str(ROOT / ".venv" / "bin" / "imagin") if (ROOT / ".venv" / "bin" / "imagin").exists() else "imagin"
INTAKE = "recus@imagin.test"
DOMAIN = "imagin.test"
SENDER = "ines.leroy@example.org"  # demo intervenant with exactly one mission


def wait_for(
    predicate: Callable[[], object],
    timeout: float = 90.0,
    what: str = "condition",
    procs: list[RoleProcess] | None = None,
) -> object:
    """Poll until ``predicate()`` is truthy (waiting on background work; not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for p in procs or []:
            if p.proc.poll() is not None:
                raise AssertionError(f"{p.name} exited ({p.proc.returncode}):\n{p.output()[-3000:]}")
        time.sleep(0.1)
    detail = "".join(f"\n--- {p.name}:\n{p.output()[-2000:]}" for p in procs or [])
    raise AssertionError(f"timed out waiting for {what}{detail}")


def wait_port(port: int, timeout: float = 60.0, proc: RoleProcess | None = None) -> None:
    def listening() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        return False

    wait_for(listening, timeout, f"port {port}", [proc] if proc else None)


# ------------------------------------------------------------------------------------------ TCP proxy


class TcpProxy:
    """A loopback TCP proxy to a server; ``cut()`` drops every connection and refuses new ones
    (the server "goes away"), ``restore()`` accepts again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, name="tcp-proxy", daemon=True)
        self.thread.start()
        self.restore()

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for w in list(self.writers):
            w.transport.abort()
        self.writers.clear()

    def restore(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# ------------------------------------------------------------------------------------- role processes


@dataclass
class RoleProcess:
    name: str
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


@dataclass
class Topology:
    """Environment shared by every role process of a test: database, Redis, data dir, relay."""

    env: dict[str, str]
    data_dir: Path
    logs: Path
    procs: list[RoleProcess] = field(default_factory=list)

    def start(self, *roles: str, name: str | None = None, **overrides: str) -> RoleProcess:
        """Start ``imagin run --role R ...`` in its own process with this topology's environment."""
        name = name or "+".join(roles)
        env = {**self.env, **overrides, "IMAGIN_ROLE": name}
        log = self.logs / f"{name}-{len(self.procs)}.log"
        args = [IMAGIN, "run", *[a for r in roles for a in ("--role", r)]]
        with log.open("wb") as out:
            proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=self.data_dir.parent)
        rp = RoleProcess(name, proc, log)
        self.procs.append(rp)
        return rp


@pytest.fixture
def reply_sink() -> Iterator[Sink]:
    yield from running_sink()


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(5432)
    yield proxy
    proxy.close()


@pytest.fixture
def topology(
    pg_url: str,
    redis_url: str,
    imagin_env: Path,
    reply_sink: Sink,
    pg_proxy: TcpProxy,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Topology]:
    """PostgreSQL (reached through ``pg_proxy``) + Redis + a shared data dir, migrated and seeded with
    the demo; role processes started with ``topology.start(...)`` are stopped at the end."""
    from core.db import init_db, session_scope
    from core.demo import seed_demo
    from core.settings import reset_settings

    proxied = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{pg_proxy.port}")
    assert proxied != pg_url
    import redis

    redis_url = redis_url.rsplit("/", 1)[0] + "/13"  # a database of our own: other suites flush 15
    redis.Redis.from_url(redis_url).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGIN_")}
    env.update(
        {
            "IMAGIN_DATA_DIR": str(imagin_env),
            "IMAGIN_DATABASE_URL": proxied,
            "IMAGIN_REDIS_URL": redis_url,
            "IMAGIN_INTAKE_ADDRESSES": INTAKE,
            "IMAGIN_INTAKE_DOMAIN": DOMAIN,
            "IMAGIN_RELAY_HOST": "127.0.0.1",
            "IMAGIN_RELAY_PORT": str(reply_sink.port),
            "IMAGIN_SMTP_HOST": "127.0.0.1",
            "IMAGIN_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for key in ("IMAGIN_REDIS_URL", "IMAGIN_INTAKE_ADDRESSES", "IMAGIN_INTAKE_DOMAIN"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.setenv("IMAGIN_DATABASE_URL", pg_url)  # the test itself reads the database directly
    reset_settings()
    init_db()
    with session_scope() as session:
        seed_demo(session)
    logs = tmp_path / "logs"
    logs.mkdir()
    topo = Topology(env, imagin_env, logs)
    yield topo
    for p in topo.procs:
        p.stop()
    redis.Redis.from_url(redis_url).flushdb()
    reset_settings()


# ---------------------------------------------------------------------------------------------- mail


def scan_pdf(pages: int, text: str = "TOTAL TTC 123,45 EUR") -> bytes:
    """A scanned receipt (A4 pages at 300 dpi, images only): real OCR work, several seconds a page."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    images = []
    for page in range(pages):
        img = Image.new("L", (2480, 3508), 255)
        draw = ImageDraw.Draw(img)
        for line in range(55):
            draw.text(
                (100, 100 + line * 55),
                f"Page {page} ligne {line} article {line * 7} prix {line},50 EUR",
                fill=0,
                font=font,
            )
        draw.text((100, 3300), text, fill=0, font=font)
        images.append(img.convert("RGB"))
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=300)
    return out.getvalue()


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 6, 1, tzinfo=UTC))  # same text, same bytes
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def receipt_mail(
    text: str = "Taxi - Total 23,40 EUR", *, sender: str = SENDER, to: str = INTAKE, name: str = "recu.pdf"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, "Justificatif"
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content("Bonjour, voici mon justificatif.")
    msg.add_attachment(pdf_bytes(text), maintype="application", subtype="pdf", filename=name)
    return msg


def smtp_send(port: int, msg: EmailMessage, rcpt: str = INTAKE) -> tuple[int, bytes]:
    """Deliver over SMTP; returns the DATA reply (code, text) whether accepted or not."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        code, text = client.mail(str(msg["From"]))
        assert code == 250, text
        code, text = client.rcpt(rcpt)
        assert code == 250, text
        return client.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))


@pytest.fixture
def db_session(topology: Topology):  # type: ignore[no-untyped-def]
    """``session_scope`` on the topology's database (direct, not through the proxy)."""
    from core.db import session_scope

    return session_scope
