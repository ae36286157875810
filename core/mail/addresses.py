"""Where and how an intervenant sends receipts by e-mail."""

from __future__ import annotations

from core.models import EtatDeFrais, Intervenant
from core.settings import get_settings


def personal_address(person: Intervenant) -> str:
    """The intervenant's personal intake address (a plus-address carrying their token)."""
    s = get_settings()
    local = s.intake_address_list[0].split("@", 1)[0] if s.intake_address_list else "recus"
    return f"{local}+{person.intake_token}@{s.intake_domain}"


def email_reference(efm: EtatDeFrais) -> str:
    """What to put in the subject of the e-mail so the receipts reach the right mission."""
    return f"Mission {efm.convocation.mission.number}"
