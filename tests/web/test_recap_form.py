"""The recap PDF as a printed form: rendered to PNG (poppler's pdftoppm), its text and layout read back
(pdfplumber). The rendered first page is attached to the test's output (path printed, record_property)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdfplumber
import pytest

from core.dec import queue as dec
from core.dec.queue import Operator
from core.models import EtatDeFrais, StaffUser
from core.recap_pdf import render_recap_pdf
from core.settings import reset_settings
from tests.conftest import service_missing

A4_WIDTH_PT = 595.28


@pytest.fixture
def recap(console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IMAGIN_ACADEMIE_NAME", "Académie de Normandie – site de Caen")
    monkeypatch.setenv("IMAGIN_ACADEMIE_ADDRESS", "168 rue Caponière, 14061 Caen")
    reset_settings()
    caen = console.ids["caen"]
    with console.db() as s:
        gestionnaire = s.query(StaffUser).filter_by(login="dec.demo").one()
        dec.attest(s, Operator.of(gestionnaire), caen, True)
        efm = s.get(EtatDeFrais, caen)
        efm.trips[0].mode, efm.trips[0].distance_km = "voiture", 62
        s.flush()
        data = render_recap_pdf(s, caen)
    path = tmp_path / "recapitulatif.pdf"
    path.write_bytes(data)
    yield path
    reset_settings()


def _png(pdf: Path, page: int = 1) -> Path:
    if shutil.which("pdftoppm") is None:
        service_missing("pdftoppm (poppler-utils)")
    out = pdf.with_name(f"page-{page}")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(out)],
        check=True,
    )
    return out.with_suffix(".png")


def test_recap_is_a_form_with_header_tables_statuses_and_signatures(
    recap: Path, record_property: Callable[[str, Any], None]
) -> None:
    png = _png(recap)
    record_property("recap_page_png", str(png))
    print(f"\nRendered recap page: {png}")
    from PIL import Image

    with Image.open(png) as image:
        assert image.size[0] == pytest.approx(A4_WIDTH_PT * 80 / 72, abs=2)  # an A4 page
        grey = image.convert("L")
        inked = sum(grey.histogram()[:128])
        assert inked > 0.01 * grey.size[0] * grey.size[1]  # not a blank page

    with pdfplumber.open(recap) as pdf:
        pages = pdf.pages
        texts = [p.extract_text() or "" for p in pages]
        text = "\n".join(texts)
        first = pages[0]
        # the académie's header, from the settings, at the top left; the document's title at the top right
        words = first.extract_words()
        header = [w for w in words if w["text"] == "Académie"][0]
        assert header["top"] < 50 and header["x0"] < 60
        title = [w for w in words if w["text"] == "Récapitulatif"][0]
        assert title["top"] < 80 and title["x1"] > A4_WIDTH_PT - 60
        assert "168 rue Caponière, 14061 Caen" in text and "Division des examens et concours (DEC)" in text
        assert "(heure de Paris)" in text and "UTC" not in text
        # tables: trips with their mode, receipts with their amount, the estimate by part
        tables = [t for p in pages for t in p.extract_tables()]
        trips = next(t for t in tables if t[0][:2] == ["N°", "Départ"])
        assert trips[1][2] == "ST LO" and trips[1][5] == "Véhicule personnel" and trips[1][6] == "62 km"
        receipts = next(t for t in tables if t[0][0] == "Justificatif")
        assert receipts[0] == ["Justificatif", "Nature", "Daté du", "Montant"]
        assert receipts[1][0] == "facture-hotel.png" and receipts[1][3] == "80,00 €" and receipts[1][1]
        assert receipts[-1] == ["Total déclaré par l'intervenant", "", "", "85,00 €"]
        estimate = [row for t in tables if t[0][:2] == ["Partie", "Libellé"] for row in t[1:]]
        assert {row[0] for row in estimate} >= {"Rémunération", "Déplacement", "Sous-total", "Total estimé"}
        assert ["Total estimé", "", "", "", next(r[4] for r in estimate if r[0] == "Total estimé")] in estimate
        assert not any("forfait" in cell for row in estimate for cell in row if cell)
        # statuses, the service fait with who attested it, attestation and signature boxes
        assert "Frais de rémunération À valider" in text and "attesté le " in text
        assert "par Gestionnaire DEC (démo)" in text and "staff:" not in text
        assert "certifie sur l'honneur" in text and "Visa de la DEC" in text
        last = pages[-1]
        boxes = [r for r in last.rects if r["width"] > 100 and 60 < r["height"] < 110]
        assert len(boxes) == 3
        # page numbers on every page, nothing past the right margin
        for n, page in enumerate(pages, 1):
            assert f"Page {n} / {len(pages)}" in texts[n - 1]
            assert max(w["x1"] for w in page.extract_words()) <= A4_WIDTH_PT - 14


def test_chat_recap_shows_a_receipts_total_at_its_amount(console) -> None:  # type: ignore[no-untyped-def]
    from core.recap_pdf import estimate_lines

    with console.db() as s:
        lines = estimate_lines(s, s.get(EtatDeFrais, console.ids["caen"]))
    receipts = next(line for line in lines if line.startswith("  Transport sur justificatifs"))
    # the ticket is paid what it states (80,00 €), not the declared total (85,00 €, flagged as differing)
    assert receipts.endswith(": 80,00 € (montant réel)") and "forfait" not in " ".join(lines)
    assert "Transport sur justificatifs : 80,00 €" in lines  # its category, the lines under it
    assert lines.index("Rémunération : 500,00 €") + 1 == lines.index(
        "  Correction de copies (taux 5) : 100 copies × 5,00 € = 500,00 €"
    )
