"""Load test of the production topology (PostgreSQL + Redis, roles in separate processes), loopback only.

Many simulated intervenants link their Telegram account through the bot emulator (bot role, Redis
conversation state) while many e-mails with a receipt go through two SMTP processes (mail role) at once.
Then every acknowledged message and answer is looked up in the database: a linked chat must have its
Telegram id recorded; a mail answered 250 must be in the ledger once, processed, with its receipt.
Prints the load held and the count lost (goal 0); the baseline is the same e-mail load sent one by one
in the same run, so the printed ratio is concurrent / sequential throughput.

Run: .venv/bin/python bench/load_test.py [--people 300] [--mails 600] [--concurrency 40] [--production-hash]
Needs PostgreSQL (127.0.0.1:5432, database ``test``) and Redis (127.0.0.1:6379); skips otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402

PG_ADMIN = os.environ.get("IMAGIN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("IMAGIN_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
INTAKE = "recus@imagin.load"
DOMAIN = "imagin.load"
PASSWORD = "Charge2026!"
NEW_CODE = "Jury2026bac"
DEADLINE = 240.0  # seconds: the whole run is bounded


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def pdf(text: str) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.set_font("Helvetica", size=14)
    doc.cell(0, 10, text)
    return bytes(doc.output())


# ------------------------------------------------------------------------------------------- population


def seed_population(people: int) -> list[dict[str, str]]:
    """``people`` intervenants, each convoked to one open mission, all with the same starting code."""
    from datetime import datetime, timedelta

    from core import accounts
    from core.db import session_scope
    from core.imports import create_efm
    from core.models import Centre, Convocation, Exam, Intervenant, IntervenantEmail, Mission, MissionType

    password_hash = accounts.hash_password(PASSWORD)  # hashed once: seeding is not what is measured
    out = []
    with session_scope() as s:
        centre = Centre(code="0000001L", name="LYCEE DE CHARGE", commune="CAEN")
        exam = Exam(code="BAC", name="BACCALAUREAT", session="Session de charge", rate_group="T3")
        s.add_all([centre, exam])
        s.flush()
        for i in range(people):
            person = Intervenant(
                numero=f"L{i:06d}",
                last_name=f"CHARGE{i}",
                first_name="Test",
                password_hash=password_hash,
                intake_token=accounts.new_intake_token(),
            )
            email = f"intervenant{i}@example.org"
            person.emails.append(IntervenantEmail(address=email))
            mission = Mission(
                number=f"LOAD-{i:06d}",
                exam_id=exam.id,
                centre_id=centre.id,
                mission_type=MissionType.CORRECTION,
                start_at=datetime.now() - timedelta(days=2),
            )
            s.add_all([person, mission])
            s.flush()
            convocation = Convocation(intervenant_id=person.id, mission_id=mission.id, expected_quantity=50)
            s.add(convocation)
            s.flush()
            create_efm(s, convocation, mission)
            out.append({"numero": person.numero, "email": email})
    return out


# ------------------------------------------------------------------------------------------------ roles


def start_role(role: str, env: dict[str, str], log: Path, **extra: str) -> subprocess.Popen:
    imagin = ROOT / ".venv" / "bin" / "imagin"
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(imagin), "run", "--role", role], env={**env, **extra}, stdout=out, stderr=subprocess.STDOUT
        )


async def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"a role process exited early ({proc.returncode})")
        if port_open(port):
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


# ------------------------------------------------------------------------------------------------- load


def mail_for(person: dict[str, str], i: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = person["email"], INTAKE, f"Justificatif {i}"
    msg["Message-ID"] = make_msgid(domain="load.example.org")
    msg.set_content("Bonjour, voici mon justificatif.")
    msg.add_attachment(
        pdf(f"Taxi {i} - Total {10 + i % 90},{i % 100:02d} EUR"),
        maintype="application",
        subtype="pdf",
        filename=f"recu-{i}.pdf",
    )
    return msg


async def send_mails(messages: list[EmailMessage], ports: list[int], concurrency: int) -> tuple[list[str], int]:
    """Deliver over SMTP; returns (Message-IDs answered 250, count refused)."""
    gate = asyncio.Semaphore(concurrency)
    acked: list[str] = []
    refused = 0

    async def one(i: int, msg: EmailMessage) -> None:
        nonlocal refused
        async with gate:
            try:
                await aiosmtplib.send(msg, hostname="127.0.0.1", port=ports[i % len(ports)], timeout=60)
                acked.append(str(msg["Message-ID"]))
            except (aiosmtplib.SMTPException, OSError):
                refused += 1

    await asyncio.gather(*(one(i, m) for i, m in enumerate(messages)))
    return acked, refused


async def link_people(base: str, people: list[dict[str, str]], concurrency: int) -> tuple[list[int], int]:
    """Each simulated intervenant links their chat; returns (Telegram ids told "relié", failures)."""
    from bot.emulator.client import ChatClient

    gate = asyncio.Semaphore(concurrency)
    linked: list[int] = []
    failed = 0
    reasons: dict[str, int] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        chat = ChatClient(base, http)

        async def answered(user_id: int, *needles: str, timeout: float = 60) -> str:
            """The first bot message containing one of ``needles`` ('' if none came in time)."""
            end = time.monotonic() + timeout
            while True:
                for m in await chat.messages(user_id):
                    if m["from"] == "bot" and any(n in m["text"] for n in needles):
                        return m["text"]
                if time.monotonic() > end:
                    return ""
                await asyncio.sleep(0.5)

        async def one(user_id: int, person: dict[str, str]) -> None:
            nonlocal failed
            async with gate:
                try:
                    await chat.send(user_id, "/start")
                    await chat.send(user_id, person["numero"])
                    await answered(user_id, "Étape 2/3")
                    await chat.send(user_id, PASSWORD)
                    if "Étape 3/3" in await answered(user_id, "Étape 3/3", "maintenant relié"):
                        await chat.send(user_id, NEW_CODE)
                    if await answered(user_id, "maintenant relié"):
                        linked.append(user_id)
                        return
                    reason = (await chat.last_bot_text(user_id))[:60] or "no answer"
                except Exception as exc:  # noqa: BLE001 - counted, the load goes on
                    reason = f"{type(exc).__name__}: {exc}"[:80]
                failed += 1
                reasons[reason] = reasons.get(reason, 0) + 1

        await asyncio.gather(*(one(900_000 + i, p) for i, p in enumerate(people)))
    if reasons:
        print("chat failures:", reasons)
    return linked, failed


def audit_database(acked_mails: list[str], linked: dict[int, str]) -> dict[str, int]:
    """Look every acknowledged message and answer up in the database."""
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.models import InboundMail, Intervenant, MailAttachment, Receipt

    with session_scope() as s:
        rows = dict(
            s.execute(
                select(InboundMail.message_id, func.count())
                .where(InboundMail.message_id.in_(acked_mails))
                .group_by(InboundMail.message_id)
            ).all()
        )
        processed = set(
            s.scalars(
                select(InboundMail.message_id).where(
                    InboundMail.message_id.in_(acked_mails), InboundMail.state == "processed"
                )
            )
        )
        with_receipt = set(
            s.scalars(
                select(InboundMail.message_id)
                .join(MailAttachment)
                .join(Receipt, Receipt.id == MailAttachment.receipt_id)
                .where(InboundMail.message_id.in_(acked_mails))
            )
        )
        telegram = dict(
            s.execute(
                select(Intervenant.telegram_user_id, Intervenant.numero).where(
                    Intervenant.telegram_user_id.in_(list(linked))
                )
            ).all()
        )
    return {
        "mails_missing": sum(1 for m in acked_mails if m not in rows),
        "mails_duplicated": sum(1 for n in rows.values() if n > 1),
        "mails_unprocessed": sum(1 for m in acked_mails if m not in processed),
        "mails_without_receipt": sum(1 for m in acked_mails if m not in with_receipt),
        "chats_not_linked": sum(1 for uid, numero in linked.items() if telegram.get(uid) != numero),
    }


async def wait_processed(acked: list[str], deadline: float) -> None:
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.models import InboundMail

    while time.monotonic() < deadline:
        with session_scope() as s:
            waiting = s.scalar(
                select(func.count())
                .select_from(InboundMail)
                .where(InboundMail.message_id.in_(acked), InboundMail.state.in_(["received", "processing"]))
            )
        if not waiting:
            return
        await asyncio.sleep(0.5)


async def timed(work):  # type: ignore[no-untyped-def]
    """``work``'s result tuple followed by the seconds it took."""
    t0 = time.monotonic()
    result = await work
    return (*result, time.monotonic() - t0)


async def main(args: argparse.Namespace) -> int:
    start_all = time.monotonic()
    deadline = start_all + DEADLINE
    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    data_dir = Path(tempfile.mkdtemp(prefix="imagin-load-"))
    url = f"{PG_ADMIN}{'&' if '?' in PG_ADMIN else '?'}options=-csearch_path%3D{schema}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMAGIN_")}
    env.update(
        {
            "IMAGIN_DATABASE_URL": url,
            "IMAGIN_REDIS_URL": REDIS,
            "IMAGIN_DATA_DIR": str(data_dir),
            "IMAGIN_INTAKE_ADDRESSES": INTAKE,
            "IMAGIN_INTAKE_DOMAIN": DOMAIN,
            "IMAGIN_RELAY_HOST": "127.0.0.1",
            "IMAGIN_RELAY_PORT": str(free_port()),
            "IMAGIN_LOG_LEVEL": "WARNING",
            "IMAGIN_LOG_FORMAT": "json",
        }
    )
    if not args.production_hash:  # argon2 at 64 MiB per login would measure the password hash alone
        env.update({"IMAGIN_PASSWORD_HASH_TIME_COST": "1", "IMAGIN_PASSWORD_HASH_MEMORY_KIB": "1024"})
    os.environ.update({k: v for k, v in env.items() if k.startswith("IMAGIN_")})
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    from core.db import init_db

    init_db()
    people = seed_population(args.people)
    procs: list[subprocess.Popen] = []
    try:
        smtp_ports = [free_port(), free_port()]
        bot_port = free_port()
        for i, port in enumerate(smtp_ports):
            procs.append(start_role("mail", env, data_dir / f"mail{i}.log", IMAGIN_SMTP_PORT=str(port)))
        procs.append(start_role("bot", env, data_dir / "bot.log", IMAGIN_EMULATOR_PORT=str(bot_port)))
        for port, proc in [*zip(smtp_ports, procs, strict=False), (bot_port, procs[-1])]:
            await wait_port(port, proc)

        rng = random.Random(7)
        baseline_msgs = [mail_for(rng.choice(people), -1 - i) for i in range(args.baseline)]
        t0 = time.monotonic()
        base_acked, _ = await send_mails(baseline_msgs, smtp_ports[:1], 1)
        baseline_rate = len(base_acked) / (time.monotonic() - t0)

        messages = [mail_for(rng.choice(people), i) for i in range(args.mails)]
        t0 = time.monotonic()
        (acked, refused, mail_seconds), (linked_ids, link_failed, chat_seconds) = await asyncio.gather(
            timed(send_mails(messages, smtp_ports, args.concurrency)),
            timed(link_people(f"http://127.0.0.1:{bot_port}", people, args.concurrency)),
        )
        load_seconds = time.monotonic() - t0
        all_acked = [*base_acked, *acked]
        await wait_processed(all_acked, deadline)
        settle_seconds = time.monotonic() - t0
        linked = {uid: people[uid - 900_000]["numero"] for uid in linked_ids}
        lost = audit_database(all_acked, linked)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        from core.settings import reset_settings

        reset_settings()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        redis.Redis.from_url(REDIS).flushdb()

    rate = len(acked) / mail_seconds if mail_seconds else 0.0
    total_lost = sum(lost.values())
    print("topology: PostgreSQL + Redis, 2 SMTP processes (mail role), 1 bot process (emulator), loopback")
    print(
        f"load held: {len(people)} intervenants linking their chat and {args.mails} e-mails at once "
        f"(concurrency {args.concurrency}) in {load_seconds:.1f} s; all settled in {settle_seconds:.1f} s"
    )
    ratio = rate / baseline_rate if baseline_rate else 0.0
    print(
        f"  e-mails: {len(acked)} accepted (250), {refused} refused, {rate:.1f}/s while chats ran; "
        f"baseline one by one, alone {baseline_rate:.1f}/s; ratio {ratio:.2f}x"
    )
    print(
        f"  chats: {len(linked_ids)} linked, {link_failed} failed, "
        f"{len(linked_ids) / chat_seconds:.1f} conversations/s (4 exchanges each; argon2 "
        f"{'production' if args.production_hash else 'light'} cost)"
    )
    print(f"lost: {total_lost} (goal 0) {lost}")
    print(f"total run {time.monotonic() - start_all:.1f} s")
    if total_lost:
        print(f"role logs kept in {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if total_lost == 0 else 1


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--mails", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--production-hash", action="store_true", help="argon2 at its production cost")
    args = parser.parse_args()
    if not (port_open(5432) and port_open(6379)):
        print("load test skipped: PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are needed")
        return 0
    return asyncio.run(main(args))


if __name__ == "__main__":
    sys.exit(cli())
