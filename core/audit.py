"""The audit log: one call per state change, in the same transaction as the change."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from core.models import AuditEntry

_INSERT = cast(Table, AuditEntry.__table__).insert()  # built once: a plain INSERT, no ORM object


def record(
    session: Session,
    actor: str,
    entity: str,
    entity_id: int,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry (who, what, before/after) to the current transaction (written at once: one INSERT,
    several times cheaper than an ORM object; on the session's connection, so it flushes nothing pending)."""
    session.connection().execute(
        _INSERT,
        {
            "actor": actor,
            "entity": entity,
            "entity_id": entity_id,
            "action": action,
            "before": jsonable(before),
            "after": jsonable(after),
        },
    )


def jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Values made JSON-safe: dates, decimals and enums as strings."""
    if values is None:
        return None
    return {k: v if v is None or isinstance(v, bool | int | float | str) else str(v) for k, v in values.items()}
