"""The chef de centre's day screen stays within one Telegram message, whatever the centre's size."""

from __future__ import annotations

from datetime import datetime

from bot.dialogs.chef import MAX_TEXT, _by_person
from core.models import Convocation, EtatDeFrais, Intervenant, Mission


def test_a_big_day_is_summed_up_within_one_message() -> None:
    day = datetime(2026, 6, 15, 8, 0)
    efms = []
    for i in range(80):
        person = Intervenant(
            id=i + 1, numero=f"N{i:05d}", civility="M.", first_name="Jean-Baptiste", last_name=f"NOM{i}"
        )
        mission = Mission(number=f"BAC-2026-{i:03d}", start_at=day, duration_days=1, mission_type="correction")
        efms.append(
            EtatDeFrais(id=i + 1, convocation=Convocation(intervenant=person, intervenant_id=i + 1, mission=mission))
        )
    text = "\n".join(_by_person(efms))
    assert len(text) <= MAX_TEXT + 200 < 4096
    assert text.splitlines()[0] == "1. M. Jean-Baptiste NOM0 (n° N00000)"
    shown = sum(1 for line in text.splitlines() if line[:1].isdigit())
    assert text.endswith(f"… et {80 - shown} autres intervenants : la console DEC (page Service fait) les liste tous.")
