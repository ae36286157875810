"""OCR workers in separate processes sharing the Redis task queue, against PostgreSQL: each receipt is
read once, and a worker killed with SIGKILL in the middle of a job has the job done by another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.models import AuditEntry, Convocation, EtatDeFrais, Intervenant, Receipt
from tests.topology.conftest import ROOT, RoleProcess, Topology, pdf_bytes, scan_pdf, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def start_worker(topology: Topology, name: str, sweep_seconds: int = 300) -> RoleProcess:
    """An OCR worker process (its own process group, so SIGKILL takes its children too)."""
    log = topology.logs / f"{name}.log"
    env = {
        **topology.env,
        "IMAGIN_ROLE": name,
        "IMAGIN_LOG_FORMAT": "json",
        "IMAGIN_OCR_SWEEP_AFTER_SECONDS": str(sweep_seconds),
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core.ops.worker", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    worker = RoleProcess(name, proc, log)
    topology.procs.append(worker)
    wait_for(lambda: "consumer started" in worker.output().lower(), 60, f"{name} to start", [worker])
    return worker


def add_receipts(db, files: list[tuple[bytes, str]]) -> list[int]:  # type: ignore[no-untyped-def]
    """Receipts added the way the bot and the mail pipeline do it (OCR queued after the commit)."""
    from core.receipts import add_receipt

    with db() as session:
        efm = session.scalar(
            select(EtatDeFrais).join(Convocation).join(Intervenant).where(Intervenant.numero == "D1003")
        )
        return [add_receipt(session, efm, data, name, source="email", actor="test")[0].id for data, name in files]


def reads_of(db, receipt_ids: list[int]) -> dict[int, int]:  # type: ignore[no-untyped-def]
    with db() as session:
        rows = session.execute(
            select(AuditEntry.entity_id, func.count())
            .where(
                AuditEntry.entity == "receipt", AuditEntry.action == "ocr_read", AuditEntry.entity_id.in_(receipt_ids)
            )
            .group_by(AuditEntry.entity_id)
        ).all()
    return {rid: n for rid, n in rows}


def pending(db, receipt_ids: list[int]) -> int:  # type: ignore[no-untyped-def]
    with db() as session:
        return session.scalar(
            select(func.count())
            .select_from(Receipt)
            .where(Receipt.id.in_(receipt_ids), Receipt.ocr_status == "pending")
        )


def receipts_read_by(worker: RoleProcess) -> list[int]:
    """Receipt ids this worker logged as read (its JSON log lines)."""
    ids = []
    for line in worker.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        msg = entry.get("msg", "")
        if msg.startswith("OCR: receipt ") and " read" in msg:
            ids.append(int(msg.split()[2]))
    return ids


def start_role_worker(topology: Topology, name: str) -> RoleProcess:
    """``imagin run --role worker`` with one OCR worker process."""
    worker = topology.start("worker", name=name, IMAGIN_OCR_WORKERS="1")
    wait_for(lambda: "consumer started" in worker.output().lower(), 60, f"{name} to start", [worker])
    return worker


def test_two_workers_share_the_queue_and_each_receipt_is_read_once(topology, db_session):
    workers = [start_role_worker(topology, f"worker{i}") for i in range(2)]
    files = [(scan_pdf(1, f"TOTAL TTC {10 + i},25 EUR"), f"scan{i}.pdf") for i in range(5)]
    files.append((pdf_bytes("Billet SNCF - Total TTC : 32,40 EUR"), "billet.pdf"))
    ids = add_receipts(db_session, files)

    wait_for(lambda: pending(db_session, ids) == 0, 240, "every receipt to be read", workers)
    assert reads_of(db_session, ids) == {rid: 1 for rid in ids}
    by_worker = [receipts_read_by(w) for w in workers]
    assert sorted(by_worker[0] + by_worker[1]) == sorted(ids)  # no receipt read by both
    assert by_worker[0] and by_worker[1]  # both took work from the one queue
    with db_session() as session:
        rows = session.execute(select(Receipt.original_name, Receipt.ocr_total).where(Receipt.id.in_(ids)))
        totals = dict(rows.all())
    assert totals["billet.pdf"] == Decimal("32.40")
    assert sum(1 for i in range(5) if totals[f"scan{i}.pdf"] == Decimal(f"{10 + i}.25")) >= 4


def test_sigterm_lets_the_worker_finish_the_job_in_flight(topology, db_session):
    worker = start_role_worker(topology, "stopping")
    [receipt_id] = add_receipts(db_session, [(scan_pdf(2), "scan-long.pdf")])
    wait_for(
        lambda: "read_receipt" in worker.output() and "Executing" in worker.output(),
        120,
        "the worker to start the job",
        [worker],
    )
    assert pending(db_session, [receipt_id]) == 1
    assert worker.stop(signal.SIGTERM, timeout=200) == 0  # systemd's stop, in the middle of the OCR
    with db_session() as session:  # the job was finished before the process exited
        receipt = session.get(Receipt, receipt_id)
        assert (receipt.ocr_status, receipt.ocr_total) == ("done", Decimal("123.45"))
    assert reads_of(db_session, [receipt_id]) == {receipt_id: 1}


def test_a_worker_killed_mid_job_has_the_job_done_by_another(topology, db_session):
    from core import jobs

    first = start_worker(topology, "doomed", sweep_seconds=3)
    [receipt_id] = add_receipts(db_session, [(scan_pdf(2), "scan-long.pdf")])
    wait_for(
        lambda: "read_receipt" in first.output() and "Executing" in first.output(),
        120,
        "the first worker to start the job",
        [first],
    )

    os.killpg(first.proc.pid, signal.SIGKILL)  # the worker and its children die in the middle of the OCR
    first.proc.wait(10)
    assert pending(db_session, [receipt_id]) == 1, "the job finished before the kill: nothing was tested"
    assert jobs.get_huey().pending_count() == 0  # the job left the queue with the dead worker

    second = start_worker(topology, "rescuer", sweep_seconds=3)
    wait_for(lambda: pending(db_session, [receipt_id]) == 0, 240, "the job to be done again", [second])
    assert reads_of(db_session, [receipt_id]) == {receipt_id: 1}
    assert receipts_read_by(second) == [receipt_id] and receipts_read_by(first) == []
    with db_session() as session:
        receipt = session.get(Receipt, receipt_id)
        assert (receipt.ocr_status, receipt.ocr_total) == ("done", Decimal("123.45"))
