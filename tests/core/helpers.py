"""Small helpers for core tests: find demo objects."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Convocation, EtatDeFrais, Mission


def efm_by_mission(session: Session, number: str) -> EtatDeFrais:
    return session.scalars(
        select(EtatDeFrais).join(EtatDeFrais.convocation).join(Convocation.mission).where(Mission.number == number)
    ).one()
