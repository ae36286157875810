"""Who acted, in words: audit actors ("staff:3", "cli", "bot") shown as people's names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import StaffUser

OTHER_ACTORS = {"cli": "ligne de commande", "bot": "assistant Imag'in", "system": "assistant Imag'in"}


def actor_names(session: Session, actors: Iterable[str | None]) -> dict[str, str]:
    """Each actor with a French name: a staff account's full name, « ligne de commande » for scripts."""
    wanted = {a for a in actors if a}
    ids = {int(a.split(":", 1)[1]): a for a in wanted if a.startswith("staff:") and a.split(":", 1)[1].isdigit()}
    names = {a: OTHER_ACTORS.get(a, a) for a in wanted}
    if ids:
        for user in session.scalars(select(StaffUser).where(StaffUser.id.in_(ids))):
            names[ids[user.id]] = user.full_name
    for actor in ids.values():
        if names[actor] == actor:
            names[actor] = "compte supprimé"
    return names


def actor_name(session: Session, actor: str | None) -> str:
    """One actor's French name ("" for none)."""
    return actor_names(session, [actor]).get(actor or "", "")
