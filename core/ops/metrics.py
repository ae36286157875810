"""Metrics a person looks at, read from the shared database (and the task queue), so any process
of the deployment reports the same numbers: outbox depth, receipts waiting for OCR, OCR latency,
mails and attachments accepted / rejected, the task queue's depth.

``snapshot(session)`` returns them as plain data; ``prometheus_text()`` renders them in the Prometheus
text format; ``web/ops.py`` serves them (``/metrics``, ``/metrics.json``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.db import session_scope
from core.models import InboundMail, MailAttachment, OutboxMessage, Receipt, utcnow

log = logging.getLogger(__name__)

LATENCY_WINDOW = 1000  # OCR latency figures are over this many most recent readings


@dataclass
class Snapshot:
    """The numbers at one instant (counts are totals in the database, seconds are floats)."""

    outbox_pending: dict[str, int] = field(default_factory=dict)  # by channel
    outbox_failed: dict[str, int] = field(default_factory=dict)  # by channel, gave up
    outbox_oldest_pending_seconds: float = 0.0
    receipts_by_ocr_status: dict[str, int] = field(default_factory=dict)  # pending | done | failed
    receipts_by_source: dict[str, int] = field(default_factory=dict)  # chat | email | console
    ocr_oldest_pending_seconds: float = 0.0
    ocr_seconds_avg: float | None = None  # engine time per receipt
    ocr_seconds_p95: float | None = None
    ocr_wait_seconds_p95: float | None = None  # receipt stored -> reading saved
    mails_by_state: dict[str, int] = field(default_factory=dict)  # received | processed | quarantined ...
    attachments_by_state: dict[str, int] = field(default_factory=dict)  # accepted | rejected | ignored ...
    queue_depth: int | None = None  # tasks waiting in the task queue (None: queue not reachable)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` (0..1) percentile by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def _counts(
    session: Session, column: InstrumentedAttribute[Any], *, where: ColumnElement[bool] | None = None
) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    if where is not None:
        query = query.where(where)
    return {str(key): int(n) for key, n in session.execute(query)}


def _age_seconds(oldest: datetime | None) -> float:
    return max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0


def snapshot(session: Session) -> Snapshot:
    """Read every metric from the database (a few aggregate queries)."""
    snap = Snapshot()
    snap.outbox_pending = _counts(session, OutboxMessage.channel, where=OutboxMessage.status == "pending")
    snap.outbox_failed = _counts(session, OutboxMessage.channel, where=OutboxMessage.status == "failed")
    snap.outbox_oldest_pending_seconds = _age_seconds(
        session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))
    )
    snap.receipts_by_ocr_status = _counts(session, Receipt.ocr_status)
    snap.receipts_by_source = _counts(session, Receipt.source)
    snap.ocr_oldest_pending_seconds = _age_seconds(
        session.scalar(select(func.min(Receipt.created_at)).where(Receipt.ocr_status == "pending"))
    )
    recent = session.execute(
        select(Receipt.ocr_seconds, Receipt.created_at, Receipt.ocr_at)
        .where(Receipt.ocr_at.is_not(None))
        .order_by(Receipt.ocr_at.desc())
        .limit(LATENCY_WINDOW)
    ).all()
    engine_seconds = [r.ocr_seconds for r in recent if r.ocr_seconds is not None]
    if engine_seconds:
        snap.ocr_seconds_avg = sum(engine_seconds) / len(engine_seconds)
        snap.ocr_seconds_p95 = percentile(engine_seconds, 0.95)
    snap.ocr_wait_seconds_p95 = percentile(
        [max(0.0, (r.ocr_at - r.created_at).total_seconds()) for r in recent if r.created_at is not None], 0.95
    )
    snap.mails_by_state = _counts(session, InboundMail.state)
    snap.attachments_by_state = _counts(session, MailAttachment.state)
    snap.queue_depth = queue_depth()
    return snap


def queue_depth() -> int | None:
    """Tasks waiting in the task queue (huey), or None when it cannot be read."""
    try:
        from core import jobs

        return int(jobs.huey.pending_count())
    except Exception as exc:  # noqa: BLE001 - a metric must never break the endpoint
        log.debug("task queue depth unavailable: %s", exc)
        return None


def _labelled(name: str, doc: str, label: str, values: dict[str, int], known: Iterable[str] = ()) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key in sorted(set(values) | set(known)):
        family.add_metric([key], values.get(key, 0))
    return family


def _plain(name: str, doc: str, value: float | None) -> Metric | None:
    return None if value is None else GaugeMetricFamily(name, doc, value=value)


class DatabaseCollector(Collector):
    """A Prometheus collector that reads a fresh :class:`Snapshot` at every scrape."""

    def collect(self) -> Iterable[Metric]:
        with session_scope() as session:
            snap = snapshot(session)
        families = [
            _labelled(
                "imagin_outbox_pending",
                "Notifications waiting to be delivered",
                "channel",
                snap.outbox_pending,
                ("telegram", "email"),
            ),
            _labelled(
                "imagin_outbox_failed",
                "Notifications given up after retries",
                "channel",
                snap.outbox_failed,
                ("telegram", "email"),
            ),
            _plain(
                "imagin_outbox_oldest_pending_seconds",
                "Age of the oldest undelivered notification",
                snap.outbox_oldest_pending_seconds,
            ),
            _labelled(
                "imagin_receipts",
                "Receipts by OCR status",
                "ocr_status",
                snap.receipts_by_ocr_status,
                ("pending", "done", "failed"),
            ),
            _labelled(
                "imagin_receipts_by_source", "Receipts by where they came from", "source", snap.receipts_by_source
            ),
            _plain(
                "imagin_ocr_oldest_pending_seconds",
                "Age of the oldest receipt waiting for OCR",
                snap.ocr_oldest_pending_seconds,
            ),
            _plain(
                "imagin_ocr_seconds_avg",
                f"OCR engine time per receipt, mean of the last {LATENCY_WINDOW}",
                snap.ocr_seconds_avg,
            ),
            _plain(
                "imagin_ocr_seconds_p95",
                f"OCR engine time per receipt, p95 of the last {LATENCY_WINDOW}",
                snap.ocr_seconds_p95,
            ),
            _plain("imagin_ocr_wait_seconds_p95", "Receipt stored to reading saved, p95", snap.ocr_wait_seconds_p95),
            _labelled(
                "imagin_mails",
                "Inbound mails by ledger state",
                "state",
                snap.mails_by_state,
                ("received", "processing", "processed", "quarantined", "failed"),
            ),
            _labelled(
                "imagin_mail_attachments",
                "Mail attachments by decision",
                "state",
                snap.attachments_by_state,
                ("pending", "accepted", "rejected", "ignored", "held"),
            ),
            _plain("imagin_task_queue_depth", "Tasks waiting in the task queue", snap.queue_depth),
        ]
        return [f for f in families if f is not None]


def prometheus_text() -> bytes:
    """All metrics in the Prometheus text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
