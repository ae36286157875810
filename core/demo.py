"""Demo data: centres, exams, missions of every type, intervenants, chefs de centre and DEC users.

Running it again resets the demo accounts' passwords to fresh codes (demo data only) so the
printed codes always work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts
from core.imports import apply_row
from core.mail.addresses import personal_address
from core.models import Intervenant, StaffRole, StaffUser

DEMO_CENTRES = [
    ("0141274A", "LYCEE MALHERBE", "CAEN", "standard"),
    ("06112932", "PRISON CTRE PEN ALENCON CONDE/SARTHE", "ALENCON", "standard"),
    ("0750654D", "LYCEE HENRI IV", "PARIS", "paris"),
]
HOURLY_GROUPS = {"BAC": "T3", "CFG": "T1", "BTS": "T4", "DNB": "T1"}  # e.g. bac: 5.00/copy, 9.60/oral hour
DEMO_PEOPLE = [
    ("D1001", "IMG-1001", "Mme", "MARTIN", "Claire", "claire.martin@example.org", "ST LO"),
    ("D1002", "IMG-1002", "M.", "DURAND", "Paul", "paul.durand@example.org", "BAYEUX"),
    ("D1003", "IMG-1003", "Mme", "LEROY", "Inès", "ines.leroy@example.org", "LISIEUX"),
]


def _missions(base: datetime) -> list[dict[str, Any]]:
    # Missions of the past week (day 0 is a week ago): done, so ready to declare and to attest.
    d = lambda days, hour: (base + timedelta(days=days - 7)).replace(hour=hour, minute=0)  # noqa: E731
    fmt = lambda dt: dt.strftime("%d/%m/%Y %H:%M")  # noqa: E731
    return [
        # person, mission, type, exam, group, centre index, start, days, expected
        {
            "p": "D1001",
            "m": "DEMO-101",
            "t": "correction",
            "e": ("BAC", "BACCALAUREAT GENERAL"),
            "g": "T5",
            "c": 0,
            "s": fmt(d(0, 9)),
            "n": "2",
            "q": "120",
            "sp": "PHILOSOPHIE",
            "ep": "Épreuve écrite",
        },
        {
            "p": "D1001",
            "m": "DEMO-102",
            "t": "oral",
            "e": ("BAC", "BACCALAUREAT GENERAL"),
            "g": "T5",
            "c": 0,
            "s": fmt(d(3, 8)),
            "n": "1",
            "q": "12",
            "sp": "FRANCAIS",
            "ep": "Épreuve anticipée orale",
        },
        {
            "p": "D1001",
            "m": "DEMO-103",
            "t": "jury",
            "e": ("BAC", "BACCALAUREAT GENERAL"),
            "g": "T5",
            "c": 0,
            "s": fmt(d(3, 14)),
            "n": "1",
            "q": "",
            "sp": "JURY",
            "ep": "Délibération",
        },
        {
            "p": "D1002",
            "m": "DEMO-201",
            "t": "oral",
            "e": ("CFG", "CERTIFICAT DE FORMATION GENERALE"),
            "g": "T1",
            "c": 1,
            "s": fmt(d(1, 9)),
            "n": "1",
            "q": "8",
            "sp": "CERTIFICAT DE FORMATION GENERALE",
            "ep": "1-001, ENTRETIEN AVEC LE JURY",
        },
        {
            "p": "D1002",
            "m": "DEMO-202",
            "t": "pratique",
            "e": ("BTS", "BTS ELECTROTECHNIQUE"),
            "g": "T4",
            "c": 2,
            "s": fmt(d(5, 8)),
            "n": "2",
            "q": "12",
            "sp": "ELECTROTECHNIQUE",
            "ep": "Épreuve pratique E4",
        },
        {
            "p": "D1003",
            "m": "DEMO-301",
            "t": "correction",
            "e": ("DNB", "DIPLOME NATIONAL DU BREVET"),
            "g": "T1",
            "c": 0,
            "s": fmt(d(2, 9)),
            "n": "1",
            "q": "80",
            "sp": "MATHEMATIQUES",
            "ep": "Épreuve écrite",
        },
    ]


def seed_demo(session: Session, base: datetime | None = None) -> dict[str, Any]:
    """Create (or refresh) the demo data; returns the login codes, as printed by ``imagin demo``."""
    base = (base or datetime.now()).replace(second=0, microsecond=0)
    people = {p[0]: p for p in DEMO_PEOPLE}
    out: dict[str, Any] = {"intervenants": [], "chefs_de_centre": [], "dec": []}
    codes = {numero: accounts.new_login_code() for numero in people}
    for m in _missions(base):
        numero, imagin_id, civ, nom, prenom, email, commune = people[m["p"]]
        code, name, commune_c, zone = DEMO_CENTRES[m["c"]]
        apply_row(
            session,
            {
                "numero": numero,
                "imagin_id": imagin_id,
                "civility": civ,
                "last_name": nom,
                "first_name": prenom,
                "emails": [email],
                "commune": commune,
                "rqth": False,
                "password": codes[numero],
                "exam_code": m["e"][0],
                "exam_name": m["e"][1],
                "session": f"Session {base:%m/%Y}",
                "rate_group": m["g"],
                "hourly_rate_group": HOURLY_GROUPS.get(m["e"][0]),
                "oral_minutes": 30 if m["t"] == "oral" else None,
                "mission_number": m["m"],
                "mission_type": m["t"],
                "speciality": m["sp"],
                "epreuve": m["ep"],
                "centre_code": code,
                "centre_name": name,
                "centre_commune": commune_c,
                "zone": zone,
                "start": datetime.strptime(m["s"], "%d/%m/%Y %H:%M"),
                "duration": int(m["n"]),
                "pay": True,
                "travel": True,
                "expected": int(m["q"]) if m["q"] else None,
            },
            actor="system:demo",
        )
    for numero, (_, imagin_id, _civ, nom, prenom, email, _c) in people.items():
        person = session.scalar(select(Intervenant).where(Intervenant.numero == numero))
        assert person is not None
        person.password_hash = accounts.hash_password(codes[numero])
        person.must_change_password = True
        out["intervenants"].append(
            {
                "numero": numero,
                "identifiant_imagin": imagin_id,
                "nom": f"{prenom} {nom}",
                "email": email,
                "mot_de_passe": codes[numero],
                "adresse_depot": personal_address(person),
            }
        )
    from core.models import Centre

    staff: list[tuple[str, str, StaffRole, int | None, str]] = [
        ("dec.demo", "Gestionnaire DEC (démo)", StaffRole.GESTIONNAIRE, None, "dec")
    ]
    for code, name, _commune, _zone in DEMO_CENTRES:
        centre = session.scalar(select(Centre).where(Centre.code == code))
        if centre is not None:
            staff.append(
                (f"chef.{code.lower()}", f"Chef de centre {name}", StaffRole.CHEF_CENTRE, centre.id, "chefs_de_centre")
            )
    for login, full_name, role, centre_id, bucket in staff:
        password = accounts.new_login_code()
        user = session.scalar(select(StaffUser).where(StaffUser.login == login))
        if user is None:
            user = StaffUser(login=login, full_name=full_name, role=role, centre_id=centre_id, password_hash="")
            session.add(user)
        user.password_hash = accounts.hash_password(password)
        out[bucket].append(
            {
                "login": login,
                "nom": full_name,
                "mot_de_passe": password,
                "role": str(role),
                **({"centre_id": centre_id} if centre_id else {}),
            }
        )
    session.flush()
    return out
