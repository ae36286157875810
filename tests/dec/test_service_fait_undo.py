"""Taking back a service fait attestation: only its author, only for a short while, notifications withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import service_fait
from core.errors import InvalidInput
from core.models import EtatDeFrais, OutboxMessage, utcnow
from tests.dec.factory import staff
from tests.dec.test_decisions import seeded  # noqa: F401 - fixture


def _service_fait_messages(s) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "service_fait")))


def test_undo_restores_withdraws_or_corrects_and_expires(seeded) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = seeded
    with db() as s:
        efm = s.get(EtatDeFrais, ids["caen"])
        chef, other = staff(s, "chef.0141274a"), staff(s, "dec.demo")
        service_fait.attest(s, efm, False, chef, source="bot")
        assert "email" in {m.channel for m in _service_fait_messages(s)}
        with pytest.raises(InvalidInput, match="pas la vôtre"):
            service_fait.undo(s, efm, other, None)  # only the author takes it back
        service_fait.undo(s, efm, chef, None)
        assert efm.service_fait is None and _service_fait_messages(s) == []  # undelivered: withdrawn
        service_fait.attest(s, efm, True, chef, source="bot")
        for m in _service_fait_messages(s):
            m.status = "sent"  # already delivered: a correction follows instead
        service_fait.undo(s, efm, chef, None)
        texts = [m.text for m in _service_fait_messages(s) if m.status == "pending"]
        assert texts and all("Correction : l'attestation de la mission n° DEMO-101" in t for t in texts)
        sf = service_fait.attest(s, efm, True, chef, source="bot")
        sf.attested_at = utcnow() - timedelta(seconds=service_fait.UNDO_SECONDS + 1)
        with pytest.raises(InvalidInput, match="délai d'annulation"):
            service_fait.undo(s, efm, chef, None)
        assert efm.service_fait is not None and efm.service_fait.done
