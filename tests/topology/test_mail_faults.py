"""Mail intake in the production topology: SMTP role processes against PostgreSQL, the database cut
off by a TCP proxy, the same message delivered twice through two SMTP processes."""

from __future__ import annotations

import signal
import threading

import httpx
import pytest
from sqlalchemy import func, select

from core.models import InboundMail, MailState, Receipt
from tests.topology.conftest import SENDER, free_port, receipt_mail, smtp_send, wait_for, wait_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def ledger(db, message_id: str) -> list[InboundMail]:  # type: ignore[no-untyped-def]
    with db() as session:
        return list(session.scalars(select(InboundMail).where(InboundMail.message_id == message_id)))


def processed(db, message_id: str) -> InboundMail | None:  # type: ignore[no-untyped-def]
    rows = ledger(db, message_id)
    return rows[0] if rows and rows[0].state not in (MailState.RECEIVED, MailState.PROCESSING) else None


def ready(port: int) -> int:
    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30).status_code


def test_database_away_smtp_answers_451_and_a_later_retry_succeeds(topology, pg_proxy, db_session):
    port, ops_port = free_port(), free_port()
    smtp = topology.start("mail", IMAGIN_SMTP_PORT=str(port))
    ops = topology.start("ops", IMAGIN_OPS_PORT=str(ops_port))
    wait_port(port, proc=smtp)
    wait_port(ops_port, proc=ops)
    assert ready(ops_port) == 200

    before = receipt_mail("Hotel - Total 80,00 EUR")
    code, _ = smtp_send(port, before)
    assert code == 250
    assert len(ledger(db_session, before["Message-ID"])) == 1

    pg_proxy.cut()  # the database goes away
    during = receipt_mail("Taxi - Total 23,40 EUR")
    code, text = smtp_send(port, during)
    assert code == 451, text  # temporary failure: the sender keeps the message and retries
    assert ledger(db_session, during["Message-ID"]) == []
    assert ready(ops_port) == 503  # the load balancer takes this machine out

    pg_proxy.restore()  # the database is back; the sender's retry is accepted and processed
    code, _ = wait_for(lambda: (r := smtp_send(port, during))[0] == 250 and r, 60, "a 250 on retry", [smtp])
    assert code == 250
    mail = wait_for(lambda: processed(db_session, during["Message-ID"]), what="processing", procs=[smtp])
    assert mail.state == MailState.PROCESSED
    assert len(ledger(db_session, during["Message-ID"])) == 1
    with db_session() as session:
        names = list(session.scalars(select(Receipt.original_name).where(Receipt.efm_id == mail.efm_id)))
    assert names.count("recu.pdf") >= 1
    # the message accepted before the outage is processed too (a step cut off midway is retried)
    first = wait_for(lambda: processed(db_session, before["Message-ID"]), what="the first mail", procs=[smtp])
    assert first.state == MailState.PROCESSED
    assert ready(ops_port) == 200
    metrics = httpx.get(f"http://127.0.0.1:{ops_port}/metrics", timeout=30).text
    assert 'imagin_mails{state="processed"} 2.0' in metrics  # read from the shared database


def test_duplicate_delivery_through_two_smtp_processes_is_processed_once(topology, reply_sink, db_session):
    ports = [free_port(), free_port()]
    procs = [topology.start("mail", name=f"smtp{i}", IMAGIN_SMTP_PORT=str(p)) for i, p in enumerate(ports)]
    for port, proc in zip(ports, procs, strict=True):
        wait_port(port, proc=proc)

    msg = receipt_mail("Repas - Total 15,20 EUR", name="repas.pdf")
    barrier = threading.Barrier(4)
    codes: list[int] = []

    def deliver(port: int) -> None:  # a relay that lost our 250 delivers again, to another MX
        barrier.wait()
        codes.append(smtp_send(port, msg)[0])

    threads = [threading.Thread(target=deliver, args=(ports[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [250, 250, 250, 250]

    mail = wait_for(lambda: processed(db_session, msg["Message-ID"]), what="processing", procs=procs)
    assert mail.state == MailState.PROCESSED
    assert len(ledger(db_session, msg["Message-ID"])) == 1
    with db_session() as session:
        receipts = session.scalar(
            select(func.count())
            .select_from(Receipt)
            .where(Receipt.efm_id == mail.efm_id, Receipt.original_name == "repas.pdf")
        )
    assert receipts == 1
    replies = wait_for(lambda: reply_sink.replies_to(SENDER), what="the reply", procs=procs)
    # give a second, duplicate reply every chance to show up: one more pipeline pass on both processes
    second = receipt_mail("Parking - Total 4,00 EUR", name="parking.pdf")
    assert smtp_send(ports[1], second)[0] == 250
    wait_for(lambda: processed(db_session, second["Message-ID"]), what="second mail", procs=procs)
    wait_for(lambda: len(reply_sink.replies_to(SENDER)) >= 2, what="the second reply", procs=procs)
    replies = reply_sink.replies_to(SENDER)
    in_reply = [r for r in replies if r["In-Reply-To"] == msg["Message-ID"]]
    assert len(in_reply) == 1


def test_sigterm_finishes_work_in_flight_and_another_process_does_the_rest(topology, db_session):
    ports = [free_port(), free_port()]
    stopping = topology.start("mail", name="stopping", IMAGIN_SMTP_PORT=str(ports[0]))
    wait_port(ports[0], proc=stopping)
    sent = [receipt_mail(f"Peage {i} - Total {i + 2},10 EUR", name=f"peage{i}.pdf") for i in range(8)]
    for msg in sent:
        assert smtp_send(ports[0], msg)[0] == 250
    assert stopping.stop(signal.SIGTERM, timeout=60) == 0  # a clean exit, right after accepting

    staying = topology.start("mail", name="staying", IMAGIN_SMTP_PORT=str(ports[1]))
    for msg in sent:  # nothing accepted is lost, nothing is left claimed by the stopped process
        mail = wait_for(lambda m=msg: processed(db_session, m["Message-ID"]), 90, "processing", [staying])
        assert mail.state == MailState.PROCESSED
