"""Fixtures of the mail intake tests: seeded database, a reply sink, the running service, Dovecot."""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.net import Sink, free_port, running_sink

INTAKE = "recus@imagin.test"
DOMAIN = "imagin.test"


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_for(predicate: Callable[[], object], timeout: float = 60.0, what: str = "condition") -> object:
    """Poll until ``predicate()`` is truthy (waiting for the background pipeline, not a timing check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def reply_sink() -> Iterator[Sink]:
    yield from running_sink()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with the demo people, built once (argon2 hashing is slow)."""
    from core.db import init_db, session_scope
    from core.demo import seed_demo
    from core.settings import reset_settings

    root = tmp_path_factory.mktemp("mail-template")
    saved = {k: os.environ.get(k) for k in ("IMAGIN_DATA_DIR", "IMAGIN_DATABASE_URL")}
    os.environ["IMAGIN_DATA_DIR"] = str(root)
    os.environ.pop("IMAGIN_DATABASE_URL", None)
    try:
        reset_settings()
        init_db()
        with session_scope() as session:
            seed_demo(session)
        reset_settings()  # disposes the engine: the WAL is checkpointed into the file
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
    return root / "imagin.sqlite"


@pytest.fixture
def mail_env(imagin_env: Path, seeded_template: Path, reply_sink: Sink, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A fresh copy of the seeded database (ines: 1 mission, claire: 3, paul: 2), intake settings, relay = sink."""
    from core.db import session_scope
    from core.settings import reset_settings

    imagin_env.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seeded_template, imagin_env / "imagin.sqlite")
    monkeypatch.setenv("IMAGIN_INTAKE_ADDRESSES", INTAKE)
    monkeypatch.setenv("IMAGIN_INTAKE_DOMAIN", DOMAIN)
    monkeypatch.setenv("IMAGIN_RELAY_HOST", "127.0.0.1")
    monkeypatch.setenv("IMAGIN_RELAY_PORT", str(reply_sink.port))
    monkeypatch.setenv("IMAGIN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("IMAGIN_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("IMAGIN_SMTP_MAX_MESSAGE_BYTES", str(12 * 1024 * 1024))
    reset_settings()
    return session_scope


@dataclass
class Service:
    port: int
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event


def _start_service() -> Service:
    from core.settings import get_settings
    from mail_ingest.runner import run_mail

    ready = threading.Event()
    box: dict[str, object] = {}

    def runner() -> None:
        async def main() -> None:
            box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
            ready.set()
            await run_mail(box["stop"])  # type: ignore[arg-type]

        asyncio.run(main())

    thread = threading.Thread(target=runner, name="mail-service", daemon=True)
    thread.start()
    ready.wait(10)
    port = get_settings().smtp_port
    wait_port(port)
    return Service(port, thread, box["loop"], box["stop"])  # type: ignore[arg-type]


def _stop_service(service: Service) -> None:
    service.loop.call_soon_threadsafe(service.stop.set)
    service.thread.join(30)


@pytest.fixture
def service(mail_env) -> Iterator[Service]:  # type: ignore[no-untyped-def]
    """The mail intake (SMTP server, worker, mailer) running in a background thread."""
    svc = _start_service()
    yield svc
    _stop_service(svc)


@pytest.fixture
def start_service() -> Iterator[Callable[[], Service]]:
    """Start the service later in a test (after changing settings)."""
    started: list[Service] = []

    def start() -> Service:
        svc = _start_service()
        started.append(svc)
        return svc

    yield start
    for svc in started:
        _stop_service(svc)


@dataclass
class Dovecot:
    port: int
    user: str
    password: str
    root: Path
    proc: subprocess.Popen | None = None

    def mailbox(self):  # type: ignore[no-untyped-def]
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(self.user, self.password)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.port)
        except RuntimeError:
            log = self.root / "dovecot.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"Dovecot did not start:\n{tail}") from None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 0
default_internal_user = {internal}
default_internal_group = {internal_group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A throw-away Dovecot IMAP server on a loopback port (Debian's dovecot-imapd)."""
    if shutil.which("dovecot") is None:
        service_missing("Dovecot (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="imagin-dovecot-"))
    os.chmod(root, 0o755)  # the unprivileged login process must reach the sockets
    if os.geteuid() == 0:  # Dovecot refuses to run its login / mail processes as root
        internal, login = "dovecot", "dovenull"
        mail_user = pwd.getpwnam("dovecot")
    else:
        internal = login = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    group = "dovecot" if os.geteuid() == 0 else grp.getgrgid(os.getgid()).gr_name
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
    (root / "users").write_text("intake:{PLAIN}s3cret-imap\n")
    port = free_port()
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(
            root=root,
            port=port,
            internal=internal,
            internal_group=group,
            login=login,
            uid=mail_user.pw_uid,
            gid=mail_user.pw_gid,
        )
    )
    server = Dovecot(port, "intake", "s3cret-imap", root)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)
