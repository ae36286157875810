"""``imagin dec``: list, show, validate, reject, export, attest-import (through the real ``imagin`` app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app
from core.models import EtatDeFrais
from core.statuses import PartStatus
from tests.dec.factory import submit_dossier

runner = CliRunner()


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s)
        ids = {"caen": submit_dossier(s, "DEMO-101"), "alencon": submit_dossier(s, "DEMO-201", quantity=6)}
        numbers = {k: s.get(EtatDeFrais, v).dossier_number for k, v in ids.items()}
    return db, ids, numbers


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_and_show_as_json(seeded) -> None:  # type: ignore[no-untyped-def]
    _, ids, numbers = seeded
    rows = [json.loads(line) for line in _ok(["dec", "list", "--json"]).splitlines()]
    assert [r["dossier"] for r in rows] == [numbers["caen"], numbers["alencon"]]
    assert "service_fait_missing" in rows[0]["controles"]
    assert [json.loads(x)["mission"] for x in _ok(["dec", "list", "--json", "--type", "oral"]).splitlines()] == [
        "DEMO-201"
    ]
    shown = json.loads(_ok(["dec", "show", numbers["caen"], "--json"]))
    assert shown["mission"]["numero"] == "DEMO-101" and shown["estimation"]["remuneration"] == "500.00"
    assert "MARTIN" in _ok(["dec", "show", str(ids["caen"])])
    missing = runner.invoke(app, ["dec", "show", "2099-000001"])
    assert missing.exit_code == 1 and "introuvable" in missing.output


def test_validate_reject_and_export(seeded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, ids, numbers = seeded
    refused = runner.invoke(app, ["dec", "validate", numbers["caen"]])
    assert refused.exit_code == 1 and "service fait" in refused.output
    sheet = tmp_path / "centre.csv"
    sheet.write_text("mission;numero_intervenant;service_fait\nDEMO-101;D1001;oui\n", encoding="utf-8")
    assert "1 attestation(s)" in _ok(["dec", "attest-import", str(sheet), "--as", "chef.0141274a"])
    _ok(["dec", "validate", numbers["caen"]])
    no_reason = runner.invoke(app, ["dec", "reject", numbers["alencon"], "--part", "travel"])
    assert no_reason.exit_code == 1 and "motif" in no_reason.output
    _ok(["dec", "reject", numbers["alencon"], "--part", "travel", "--reason", "Trajet hors mission"])
    out = _ok(["dec", "export", "--out", str(tmp_path / "exports")])
    files = sorted((tmp_path / "exports").glob("paiement-*.csv"))
    assert len(files) == 2 and "1 ligne(s)" in out
    assert "DEMO-101" in files[0].read_text(encoding="utf-8-sig")
    with db() as s:
        caen, alencon = s.get(EtatDeFrais, ids["caen"]), s.get(EtatDeFrais, ids["alencon"])
        assert caen.pay_status == caen.travel_status == PartStatus.SENT_TO_PAYMENT
        assert alencon.travel_status == PartStatus.REJECTED
    _ok(["dec", "export", "--out", str(tmp_path), "--dossier", numbers["caen"]])
    assert (tmp_path / f"dossier-{numbers['caen']}.zip").stat().st_size > 0


def test_staff_accounts_from_the_cli(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids, numbers = seeded
    out = _ok(
        ["dec", "add-user", "J.Dupont", "--name", "Jeanne Dupont", "--role", "chef_centre", "--centre", "0141274A"]
    )
    password = out.strip().rsplit(" ", 1)[-1]
    from core.accounts import authenticate_staff
    from core.models import StaffUser

    with db() as s:
        user = authenticate_staff(s, "j.dupont", password, origin="ip:test")
        assert user.must_change_password and user.centre_id is not None and user.password_hash != password
    again = runner.invoke(app, ["dec", "add-user", "j.dupont", "--name", "X"])
    assert again.exit_code == 1 and "existe déjà" in again.output
    no_centre = runner.invoke(app, ["dec", "add-user", "chef.x", "--name", "X", "--role", "chef_centre"])
    assert no_centre.exit_code == 1 and "indiquez son code" in no_centre.output
    new_password = _ok(["dec", "reset-password", "j.dupont"]).strip().rsplit(" ", 1)[-1]
    assert new_password != password
    _ok(["dec", "disable-user", "j.dupont"])
    with db() as s:
        assert s.scalar(select(StaffUser.active).where(StaffUser.login == "j.dupont")) is False
