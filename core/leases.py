"""Leases on work-queue rows: a worker claims due rows for a while, so two workers never take the same one.

Used by the outbox (notifications to deliver) and the inbound mail ledger (messages to process). A row is
leased by setting its ``locked_until``; a lease that expired is due again (the worker died or hangs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session


def claim(
    session: Session,
    key: InstrumentedAttribute[int],
    due: ColumnElement[bool],
    *,
    limit: int,
    lease: timedelta,
    now: datetime,
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """Lease up to ``limit`` rows matching ``due`` (lowest ``key`` first, the integer primary key of a model with
    a ``locked_until`` column) until ``now + lease``, also setting ``values``; returns the keys this call leased,
    sorted. Commit to publish the lease.

    On PostgreSQL the candidates are locked ``FOR UPDATE SKIP LOCKED``: concurrent claimers take different rows
    without waiting for each other. Everywhere the UPDATE checks ``due`` again, so a row another claimer took
    in the meantime (SQLite: one writer at a time) is not taken twice, and ``RETURNING`` tells which rows this
    call got.
    """
    candidates = select(key).where(due).order_by(key).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    taken = session.execute(
        update(key.class_).where(key.in_(ids), due).values(locked_until=now + lease, **(values or {})).returning(key)
    )
    return sorted(taken.scalars())
