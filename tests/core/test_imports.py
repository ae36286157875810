"""CSV import of the convocation export: bad rows reported, nothing half-imported, idempotent."""

from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app
from core.models import Convocation, EtatDeFrais, Intervenant, Mission

HEADER = (
    "numero_intervenant;identifiant_imagin;civilite;nom;prenom;email;commune_residence;mot_de_passe;"
    "examen_code;examen_nom;session;groupe_taux;mission_numero;type_mission;specialite;epreuve;"
    "centre_code;centre_nom;centre_commune;zone_hebergement;debut;duree_jours;quantite_convoquee\n"
)
GOOD = [
    "N100;IMG100;Mme;DUPONT;Anne;anne@example.org;ST LO;pw-aaaa1111;BAC;BACCALAUREAT;Session juin 2026;T5;"
    "M621;Correction de copies;PHILO;Écrit;0141274A;LYCEE MALHERBE;CAEN;standard;15/06/2026 09:00;2;120\n",
    "N100;IMG100;Mme;DUPONT;Anne;anne@example.org;ST LO;pw-aaaa1111;CFG;CERTIFICAT;Session déc. 2026;NR;"
    "M622;Interrogation orale;CFG;Entretien;06112932;PRISON;ALENCON;;02/12/2026 09:00;1;\n",
    "N101;;M.;MARTIN;Luc;luc@example.org;CAEN;pw-bbbb2222;BTS;BTS;Session juin 2026;T4;"
    "M623;pratique;ELEC;E4;0750654D;LYCEE;PARIS;paris;2026-06-20T08:00;1;12\n",
]
BAD = [
    (
        "N102;;M.;X;Y;;;pw-cccc3333;BAC;BAC;Session juin 2026;T9;M624;oral;;;C1;C;;;15/06/2026 09:00;1;\n",
        "groupe de taux",
    ),
    (
        "N103;;M.;X;Y;;;pw-dddd4444;BAC;BAC;Session juin 2026;T5;M625;surveillance;;;C1;C;;;15/06/2026 09:00;1;\n",
        "type de mission",
    ),
    (
        "N104;;M.;X;Y;;;pw-eeee5555;BAC;BAC;Session juin 2026;T5;M626;oral;;;C1;C;;;31/02/2026 09:00;1;\n",
        "date de début",
    ),
    (
        "N105;;M.;X;Y;anne@example.org;;pw-ffff6666;BAC;BAC;Session juin 2026;T5;M627;oral;;;C1;C;;;"
        "15/06/2026 09:00;1;\n",
        "appartient déjà",
    ),
    ("N106;;M.;X;Y;;;;BAC;BAC;Session juin 2026;T5;M628;oral;;;C1;C;;;15/06/2026 09:00;1;\n", "mot_de_passe"),
]


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "convocations.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _counts(session_scope) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with session_scope() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) for m in (Intervenant, Mission, Convocation, EtatDeFrais)
        )


def test_bad_rows_are_reported_and_good_ones_imported(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, GOOD[:2] + [b for b, _ in BAD] + GOOD[2:])
    result = CliRunner().invoke(app, ["import-missions", str(path)])
    assert result.exit_code == 1
    for offset, (_, reason) in enumerate(BAD):
        assert f"ligne {4 + offset}" in result.output and reason in result.output
    assert "3 ligne(s) importée(s)" in result.output
    # nothing of a bad row is left behind (N105's intervenant row was created then rolled back)
    assert _counts(db) == (2, 3, 3, 3)
    with db() as s:
        mission = s.scalar(select(Mission).where(Mission.number == "M622"))
        assert mission.has_pay_part is False  # NR: no pay part
        efm = s.scalar(select(EtatDeFrais).join(EtatDeFrais.convocation).where(Convocation.mission_id == mission.id))
        assert efm.pay_status == "pas_de_frais" and efm.travel_status == "non_encore_effectuee"


def test_reimport_is_idempotent(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, GOOD)
    first = CliRunner().invoke(app, ["import-missions", str(path)])
    assert first.exit_code == 0, first.output
    before = _counts(db)
    second = CliRunner().invoke(app, ["import-missions", str(path)])
    assert second.exit_code == 0 and "0 ligne(s) importée(s), 3 inchangée(s)" in second.output
    assert _counts(db) == before


def test_missing_columns_refuse_the_file(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_text("nom;prenom\nA;B\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import-missions", str(path)])
    assert result.exit_code == 2 and "colonnes manquantes" in result.output


def test_windows_1252_and_comma_separated(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.csv"
    content = (HEADER + GOOD[0]).replace(";", ",")
    path.write_bytes(content.encode("cp1252"))
    result = CliRunner().invoke(app, ["import-missions", str(path)])
    assert result.exit_code == 0, result.output
    with db() as s:
        assert s.scalar(select(Mission.epreuve).where(Mission.number == "M621")) == "Écrit"


def test_demo_json_covers_every_mission_type(db) -> None:  # type: ignore[no-untyped-def]
    import json

    from core.models import MissionType

    result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    codes = json.loads(result.output)
    assert len(codes["intervenants"]) == 3 and codes["dec"] and len(codes["chefs_de_centre"]) == 3
    with db() as s:
        assert set(s.scalars(select(Mission.mission_type))) == {t.value for t in MissionType}
