"""Payment CSV, dossier zip and the service fait CSV import."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

import pytest

from core.dec import queue as dec
from core.dec.attestations import import_attestations
from core.dec.exports import dossier_zip, payment_export
from core.dec.queue import Operator
from core.errors import Forbidden, InvalidInput
from core.estimates import estimate_for
from core.statuses import Part, PartStatus
from tests.dec.factory import receipt_png, staff, submit_dossier


def _seed(db):  # type: ignore[no-untyped-def]
    from core.demo import seed_demo

    with db() as s:
        seed_demo(s)
        ids = {"caen": submit_dossier(s, "DEMO-101"), "alencon": submit_dossier(s, "DEMO-201", quantity=6)}
    return db, ids


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    return _seed(db)


@pytest.fixture
def seeded_any(any_db):  # type: ignore[no-untyped-def]
    return _seed(any_db)


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_payment_export_pay_and_travel_apart_then_sent_to_payment(seeded_any) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded_any
    with db() as s:
        g = Operator.of(staff(s, "dec.demo"))
        for efm_id in ids.values():
            dec.attest(s, g, efm_id, True)
        dec.decide(s, g, ids["caen"], "validate")
        dec.decide(s, g, ids["alencon"], "validate", [Part.PAY])
        expected = estimate_for(s, dec.get_dossier(s, g, ids["caen"]))
        dec.get_dossier(s, g, ids["alencon"]).convocation.intervenant.first_name = '=HYPERLINK("x")'
        preview = payment_export(s, g, Part.PAY, mark_sent=False)
        assert preview.rows == 2
        assert dec.get_dossier(s, g, ids["caen"]).pay_status == PartStatus.VALIDATED
        pay = payment_export(s, g, Part.PAY)
        rows = _rows(pay.csv_text)
        assert [r["Partie"] for r in rows] == ["rémunération", "rémunération"]
        caen = next(r for r in rows if r["Mission"] == "DEMO-101")
        assert Decimal(caen["Montant (€)"].replace(",", ".")) == expected.pay == Decimal("500.00")
        assert caen["Montant (€)"] == "500,00" and caen["Type de mission"] == "Correction de copies"
        assert caen["Numéro intervenant"] == "D1001" and caen["Validé par"] == "Gestionnaire DEC (démo)"
        assert "staff:" not in pay.csv_text and " pay" not in pay.csv_text and "correction;" not in pay.csv_text
        assert " × 5,00 € = 500,00 €" in caen["Détail du calcul"] and "5.00" not in caen["Détail du calcul"]
        alencon = next(r for r in rows if r["Mission"] == "DEMO-201")
        assert alencon["Prénom"] == '\'=HYPERLINK("x")'  # never a formula in a spreadsheet
        assert pay.total == sum(Decimal(r["Montant (€)"].replace(",", ".")) for r in rows)
        travel = payment_export(s, g, Part.TRAVEL)
        travel_rows = _rows(travel.csv_text)
        assert [(r["Mission"], r["Partie"]) for r in travel_rows] == [("DEMO-101", "déplacement")]
        assert Decimal(travel_rows[0]["Montant (€)"].replace(",", ".")) == expected.travel
        efm = dec.get_dossier(s, g, ids["caen"])
        assert efm.pay_status == efm.travel_status == PartStatus.SENT_TO_PAYMENT
        assert dec.get_dossier(s, g, ids["alencon"]).travel_status == PartStatus.TO_VALIDATE
        assert payment_export(s, g, Part.PAY).rows == 0  # never exported twice


def test_export_leaves_out_a_part_whose_service_fait_was_withdrawn(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = Operator.of(staff(s, "dec.demo"))
        dec.attest(s, g, ids["caen"], True)
        dec.decide(s, g, ids["caen"], "validate", [Part.PAY])
        dec.attest(s, g, ids["caen"], False)
        export = payment_export(s, g, Part.PAY)
        assert export.rows == 0 and "n'a pas été effectuée" in export.skipped[0]
        assert dec.get_dossier(s, g, ids["caen"]).pay_status == PartStatus.VALIDATED
        with pytest.raises(Forbidden):
            payment_export(s, Operator.of(staff(s, "chef.0141274a")), Part.PAY)


def test_dossier_zip_has_recap_receipt_and_json(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        g = Operator.of(staff(s, "dec.demo"))
        name, data = dossier_zip(s, g, ids["caen"])
    assert name.startswith("dossier-") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert zf.read("recapitulatif.pdf").startswith(b"%PDF")
        receipt = [n for n in names if n.startswith("justificatifs/")]
        assert len(receipt) == 1 and zf.read(receipt[0]) == receipt_png()
        info = json.loads(zf.read("dossier.json"))
    assert info["mission"]["numero"] == "DEMO-101" and info["declaration"]["receipts_total"] == "85.00"
    assert info["justificatifs"][0]["lecture"]["total"] == "80.00"
    assert any(c["code"] == "receipts_total_differs" for c in info["controles"])
    assert info["estimation"]["remuneration"] == "500.00"


def test_dossier_json_names_who_acted(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    with db() as s:
        user = staff(s, "dec.demo")
        g = Operator.of(user)
        dec.attest(s, g, ids["caen"], True)
        dec.decide(s, g, ids["caen"], "validate", [Part.PAY])
        _, data = dossier_zip(s, g, ids["caen"])
        full_name, account = user.full_name, f"staff:{user.id}"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = json.loads(zf.read("dossier.json"))
    assert info["service_fait"]["par"] == full_name and info["service_fait"]["compte"] == account
    assert info["decisions"][-1]["par"] == full_name and info["decisions"][-1]["compte"] == account
    assert all(not (h["par"] or "").startswith("staff:") for h in info["historique"])


def test_attestation_csv_import_reports_bad_lines(seeded) -> None:  # type: ignore[no-untyped-def]
    db, ids = seeded
    text = (
        "Mission;Numéro intervenant;Service fait\n"
        "DEMO-101;D1001;Oui\n"
        "DEMO-102;D1001;non\n"
        "DEMO-201;D1002;oui\n"  # another centre
        "DEMO-999;D1001;oui\n"
        "DEMO-101;D1001;peut-être\n"
    )
    with db() as s:
        chef = Operator.of(staff(s, "chef.0141274a"))
        report = import_attestations(s, chef, text.encode("cp1252"))
        assert report.recorded == 2
        assert [line for line, _ in report.errors] == [4, 5, 6]
        assert "autre centre" in report.errors[0][1] and "oui ou non" in report.errors[2][1]
        g = Operator.of(staff(s, "dec.demo"))
        assert dec.get_dossier(s, g, ids["caen"]).service_fait.source == "csv"
        assert dec.get_dossier(s, g, ids["alencon"]).service_fait is None
        with pytest.raises(InvalidInput, match="Colonnes attendues"):
            import_attestations(s, chef, b"nom,prenom\nA,B\n")
        number = dec.get_dossier(s, g, ids["alencon"]).dossier_number
        report = import_attestations(s, g, f"dossier,effectue\n{number},1\n".encode())
        assert report.recorded == 1 and not report.errors


def test_the_export_file_is_kept_only_once_its_transaction_commits(seeded) -> None:  # type: ignore[no-untyped-def]
    from core.dec.exports import export_payment, exports_dir

    db, ids = seeded
    with db() as s:
        g = Operator.of(staff(s, "dec.demo"))
        dec.attest(s, g, ids["caen"], True)
        dec.decide(s, g, ids["caen"], "validate")
    with pytest.raises(RuntimeError), db() as s:  # the transaction fails after the export: nothing kept
        assert export_payment(s, Operator.of(staff(s, "dec.demo")), Part.PAY).rows == 1
        assert not exports_dir().exists() or not list(exports_dir().iterdir())
        raise RuntimeError("the request failed")
    assert not exports_dir().exists() or not list(exports_dir().iterdir())
    with db() as s:
        export = export_payment(s, Operator.of(staff(s, "dec.demo")), Part.PAY)
        assert not exports_dir().exists() or not list(exports_dir().iterdir())  # not before the commit
    kept = list(exports_dir().iterdir())
    assert [k.name for k in kept] == [export.filename] and kept[0].read_bytes().decode("utf-8") == export.csv_text
    with db() as s:
        assert (
            dec.get_dossier(s, Operator.of(staff(s, "dec.demo")), ids["caen"]).pay_status == PartStatus.SENT_TO_PAYMENT
        )


def test_changing_ones_own_password_checks_the_current_one_and_the_confirmation(seeded) -> None:  # type: ignore[no-untyped-def]
    from core.accounts import hash_password, verify_password
    from core.dec.accounts import change_own_password

    db, _ = seeded
    with db() as s:
        user = staff(s, "dec.demo")
        user.password_hash = hash_password("Ancien2026code")
        with pytest.raises(InvalidInput, match="Mot de passe actuel incorrect"):
            change_own_password(s, user, "faux", "Nouveau2026code", "Nouveau2026code")
        with pytest.raises(InvalidInput, match="Les deux saisies du nouveau mot de passe diffèrent"):
            change_own_password(s, user, "Ancien2026code", "Nouveau2026code", "Nouveau2026cod")
        assert verify_password(user.password_hash, "Ancien2026code")
        change_own_password(s, user, " Ancien2026code ", "Nouveau2026code", "Nouveau2026code")
        assert verify_password(user.password_hash, "Nouveau2026code") and not user.must_change_password
