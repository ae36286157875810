"""`imagin ocr` command and the perceptual hash used to spot re-sent photos."""

from __future__ import annotations

import io
import json
from pathlib import Path

import imagehash
import typer
from PIL import Image, ImageEnhance
from typer.testing import CliRunner

import ocr
from ocr.cli import ocr_command

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "receipts_fr"
LABELS = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines()]


def first(degradation: str, kind: str | None = None) -> dict:
    return next(i for i in LABELS if i["degradation"] == degradation and kind in (None, i["kind"]))


def app() -> typer.Typer:
    application = typer.Typer()
    application.command("ocr")(ocr_command)

    @application.command("other")
    def other() -> None:  # a second command keeps "ocr" as a sub-command, as in cli.main
        """Unused."""

    return application


def test_cli_json_lines(tmp_path: Path) -> None:
    pdf = first("text pdf, 1 page(s)")
    broken = tmp_path / "casse.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really")
    result = CliRunner().invoke(app(), ["ocr", str(CORPUS / pdf["file"]), str(broken), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["total"] == pdf["total"] and lines[0]["engine"] == "text" and lines[0]["error"] is None
    assert lines[1]["total"] is None and "PDF" in lines[1]["error"]
    assert "text" not in lines[0]


def test_cli_text_output_and_missing_file(tmp_path: Path) -> None:
    pdf = first("text pdf, 1 page(s)")
    result = CliRunner().invoke(app(), ["ocr", str(CORPUS / pdf["file"]), str(tmp_path / "absent.jpg")])
    assert result.exit_code == 1
    assert f"total {pdf['total']} EUR" in result.output
    assert "Fichier introuvable" in result.output


def _distance(a: str, b: str) -> int:
    return imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b)


def test_perceptual_hash_matches_a_retaken_photo_and_not_another_receipt() -> None:
    item = first("none", "restaurant")
    data = (CORPUS / item["file"]).read_bytes()
    img = Image.open(io.BytesIO(data)).convert("RGB")
    retaken = ImageEnhance.Brightness(img.resize((img.width * 2 // 3, img.height * 2 // 3))).enhance(0.85)
    buf = io.BytesIO()
    retaken.save(buf, "PNG")
    other = (CORPUS / first("none", "hotel")["file"]).read_bytes()
    original_hash = ocr.perceptual_hash(data)
    assert original_hash is not None and len(original_hash) == 16
    assert _distance(original_hash, ocr.perceptual_hash(buf.getvalue())) <= 6
    assert _distance(original_hash, ocr.perceptual_hash(other)) > 12


def test_perceptual_hash_of_pdf_and_of_garbage() -> None:
    pdf = (CORPUS / first("text pdf, 1 page(s)")["file"]).read_bytes()
    assert ocr.perceptual_hash(pdf) is not None
    assert ocr.perceptual_hash(b"not an image") is None
    assert ocr.perceptual_hash(b"%PDF-1.4 broken") is None
