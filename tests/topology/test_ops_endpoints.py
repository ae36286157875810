"""Metrics, health / readiness endpoints, the ``ops`` role and structured logs."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from core.models import InboundMail, OutboxMessage, Receipt, utcnow
from core.ops.logs import JsonFormatter, configure_logging
from core.ops.metrics import percentile, snapshot
from tests.topology.conftest import free_port
from tests.topology.test_data_protection import efms_of
from web.ops import health_routes, metrics_routes, ops_app, run_ops


def _fill(session) -> None:  # type: ignore[no-untyped-def]
    efm = efms_of(session, "D1001")[0]
    now = utcnow()
    for i, seconds in enumerate([1.0, 2.0, 3.0, 4.0, 10.0]):
        session.add(
            Receipt(
                efm_id=efm.id,
                sha256=f"{i:064x}",
                original_name=f"r{i}.pdf",
                detected_type="application/pdf",
                size=10,
                source="chat" if i % 2 else "email",
                storage_key=f"{i:064x}",
                ocr_status="done",
                ocr_seconds=seconds,
                created_at=now - timedelta(seconds=60),
                ocr_at=now,
            )
        )
    for i in range(3):
        session.add(
            Receipt(
                efm_id=efm.id,
                sha256=f"{i + 10:064x}",
                original_name="p.pdf",
                detected_type="application/pdf",
                size=10,
                source="email",
                storage_key=f"{i + 10:064x}",
                created_at=now - timedelta(minutes=5),
            )
        )
    session.add_all(
        [
            OutboxMessage(channel="email", recipient="a@b.c", kind="k", text="t"),
            OutboxMessage(channel="email", recipient="a@b.c", kind="k", text="t"),
            OutboxMessage(channel="telegram", recipient="1", kind="k", text="t", status="failed"),
        ]
    )
    session.add_all(
        [
            InboundMail(
                message_id=f"<{i}@x>",
                content_sha256=f"{i:064x}",
                raw_key=f"{i:064x}",
                size=1,
                source="smtp",
                state=state,
            )
            for i, state in enumerate(["processed", "processed", "quarantined", "received"])
        ]
    )


def test_snapshot_counts_what_is_in_the_database(any_db):
    from core.demo import seed_demo

    with any_db() as s:
        seed_demo(s)
        _fill(s)
    with any_db() as s:
        snap = snapshot(s)
    assert snap.receipts_by_ocr_status == {"done": 5, "pending": 3}
    assert snap.receipts_by_source == {"chat": 2, "email": 6}
    assert snap.ocr_seconds_avg == pytest.approx(4.0)
    assert snap.ocr_seconds_p95 == 10.0
    assert snap.ocr_wait_seconds_p95 == pytest.approx(60.0, abs=1)
    assert 290 <= snap.ocr_oldest_pending_seconds < 3600
    assert snap.outbox_pending == {"email": 2} and snap.outbox_failed == {"telegram": 1}
    assert snap.mails_by_state == {"processed": 2, "quarantined": 1, "received": 1}


def test_percentile_nearest_rank():
    assert percentile([], 0.95) is None
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 0.95) == 95.0


def test_metrics_routes_serve_prometheus_text_and_json(demo, db):
    with db() as s:
        _fill(s)
    client = TestClient(Starlette(routes=metrics_routes()))
    text = client.get("/metrics").text
    assert 'imagin_receipts{ocr_status="pending"} 3.0' in text
    assert 'imagin_outbox_pending{channel="email"} 2.0' in text
    assert 'imagin_mails{state="quarantined"} 1.0' in text
    assert "imagin_ocr_seconds_p95 10.0" in text
    assert client.get("/metrics.json").json()["receipts_by_ocr_status"]["pending"] == 3


def test_readiness_reports_an_unreachable_database(db, monkeypatch: pytest.MonkeyPatch):
    from core.settings import reset_settings

    client = TestClient(Starlette(routes=health_routes()))
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "data_dir": "ok"}
    monkeypatch.setenv("IMAGIN_DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    reset_settings()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["database"] != "ok" and down.json()["checks"]["data_dir"] == "ok"
    assert client.get("/healthz").status_code == 200  # alive, only not ready


def test_readiness_checks_redis_when_configured(db, redis_url, monkeypatch: pytest.MonkeyPatch):
    from core.settings import reset_settings

    monkeypatch.setenv("IMAGIN_REDIS_URL", redis_url)
    reset_settings()
    client = TestClient(ops_app())
    assert client.get("/readyz").json()["checks"]["redis"] == "ok"
    monkeypatch.setenv("IMAGIN_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    reset_settings()
    assert client.get("/readyz").status_code == 503


async def test_ops_role_serves_until_stopped(db, monkeypatch: pytest.MonkeyPatch):
    from core.settings import reset_settings

    port = free_port()
    monkeypatch.setenv("IMAGIN_OPS_PORT", str(port))
    reset_settings()
    stop = asyncio.Event()
    role = asyncio.create_task(run_ops(stop))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(200):
            try:
                response = await client.get("/readyz")
                break
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
        assert response.status_code == 200
        assert "imagin_receipts" in (await client.get("/metrics")).text
    stop.set()
    await asyncio.wait_for(role, 30)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")


def test_json_log_lines_carry_fields_and_exceptions(capsys: pytest.CaptureFixture[str]):
    configure_logging("worker", fmt="json", level="INFO")
    try:
        log = logging.getLogger("imagin.test")
        log.info("receipt %s read", 12, extra={"receipt_id": 12, "seconds": 1.5})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        logging.getLogger().handlers.clear()
    assert lines[0]["msg"] == "receipt 12 read" and lines[0]["receipt_id"] == 12 and lines[0]["role"] == "worker"
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "imagin.test" and "ts" in lines[0]
    assert lines[1]["level"] == "ERROR" and "RuntimeError: boom" in lines[1]["exc"]
    assert json.loads(JsonFormatter().format(logging.makeLogRecord({"msg": "x", "obj": object()})))["obj"]


def test_queue_depth_counts_tasks_waiting_in_the_task_queue(db, redis_url, monkeypatch: pytest.MonkeyPatch):
    from core import jobs
    from core.ops.metrics import queue_depth
    from core.settings import reset_settings

    assert queue_depth() == 0  # embedded default: the SQLite queue in the data dir
    jobs.enqueue_ocr(101)
    jobs.enqueue_ocr(102)
    assert queue_depth() == 2
    monkeypatch.setenv("IMAGIN_REDIS_URL", redis_url)
    reset_settings()
    jobs.enqueue_ocr(103)
    assert queue_depth() == 1  # the Redis queue, shared by every worker machine
