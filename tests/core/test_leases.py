"""The one lease helper (core.leases) under two claimers racing, through both of its users, on SQLite and PostgreSQL.

The two claimers are made to overlap on purpose: each one has read its candidates before either writes its lease
(a barrier before the UPDATE). On PostgreSQL the second claimer's read must skip the rows the first one locked
(``SKIP LOCKED``: without it, it waits for a lock the barrier never releases and the test fails); on SQLite the
second claimer's UPDATE must see that the rows it read were taken meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from core import outbox
from core.db import get_engine, session_scope
from core.mail import ledger as mail_ledger
from tests.mail import factory

ROWS, LIMIT = 6, 3


def _outbox_rows() -> Callable[[], list[int]]:
    with session_scope() as session:
        for i in range(ROWS):
            outbox.enqueue(session, channel="telegram", recipient=str(i), kind="k", text=f"message {i}")

    def claim() -> list[int]:
        with session_scope() as session:
            return [m.id for m in outbox.claim(session, "telegram", limit=LIMIT)]

    return claim


def _ledger_rows() -> Callable[[], list[int]]:
    for i in range(ROWS):
        mail_ledger.store_raw(factory.wire(factory.message(subject=f"lot {i}")), source="smtp")
    return lambda: mail_ledger.claim_due(limit=LIMIT)


@pytest.fixture
def racing() -> Iterator[threading.local]:
    """Threads that set ``racing.on`` (two claimers) wait for each other before their first UPDATE."""
    barrier = threading.Barrier(2, timeout=10)
    racing = threading.local()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if getattr(racing, "on", False) and statement.lstrip().upper().startswith("UPDATE"):
            racing.on = False
            barrier.wait()

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    yield racing
    event.remove(engine, "before_cursor_execute", before)


@pytest.mark.parametrize("rows", [_outbox_rows, _ledger_rows], ids=["outbox", "mail-ledger"])
def test_two_claimers_never_take_the_same_row(
    any_db: Any, racing: threading.local, rows: Callable[[], Callable[[], list[int]]]
) -> None:
    claim = rows()
    claims: list[list[int]] = []
    errors: list[BaseException] = []

    def claimer() -> None:
        racing.on = True
        try:
            claims.append(claim())
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=claimer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    first, second = claims
    assert not set(first) & set(second)  # never one row to two claimers
    if get_engine().dialect.name == "postgresql":
        assert len(first) == len(second) == LIMIT  # each skipped the other's locked rows instead of waiting
    everything = first + second + claim()  # nothing lost: what the racing claimers left is claimed now
    assert len(everything) == len(set(everything)) == ROWS


def test_a_lease_is_held_then_expires(any_db: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core.models import OutboxMessage

    claim = _outbox_rows()
    taken = claim() + claim()
    assert len(taken) == ROWS and claim() == []  # all leased: a third claimer gets nothing
    with session_scope() as session:  # the first three leases run out (the worker died)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(taken[:LIMIT]))
            .values(locked_until=outbox.utcnow() - timedelta(seconds=1))
        )
    assert claim() == taken[:LIMIT]
