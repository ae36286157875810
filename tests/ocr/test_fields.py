"""Fields beyond the total (date, currency, merchant, kind, a ticket's trip) read from real images and PDFs
through real Tesseract: receipts drawn here in several languages and notations, and the generated corpora."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
import typer
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

import ocr
from ocr.cli import ocr_command
from ocr.merchant import find_merchant

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def receipt_png(lines: list[str], size: int = 26) -> bytes:
    """A plain receipt picture: the lines in a monospace font on white paper."""
    font = ImageFont.truetype(FONT, size)
    width = int(max(font.getlength(line) for line in lines)) + 80
    img = Image.new("L", (max(width, 420), 60 + len(lines) * int(size * 1.5)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((40, 30 + i * int(size * 1.5)), line, font=font, fill=0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def labels(corpus: str) -> list[dict[str, object]]:
    with open(FIXTURES / corpus / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize(
    ("date_lines", "expected"),
    [
        (["Date : 17/03/2025 14:35"], date(2025, 3, 17)),  # French numeric
        (["Le 04/11/24 à 12:10"], date(2024, 11, 4)),  # two-digit year
        (["Dijon, le 3 février 2025"], date(2025, 2, 3)),  # French month name
        (["Datum: 28.06.2024 18:02"], date(2024, 6, 28)),  # German numeric
        (["Köln, 9. März 2025"], date(2025, 3, 9)),  # German month name
        (["Sep 21, 2024 7:45 PM"], date(2024, 9, 21)),  # English, month first
        (["21 Oct 2024 20:15"], date(2024, 10, 21)),  # English, day first
        (["2025-01-30T09:12"], date(2025, 1, 30)),  # ISO
        # The transaction date wins over a due date printed before it and a birth date.
        (["Echeance : 15/05/2025", "Date de facture : 15/04/2025"], date(2025, 4, 15)),
        (["Ne(e) le 03/05/1978", "Aller le 22/10/2024"], date(2024, 10, 22)),
        (["MHD 01.12.2026", "Datum 05.08.2024 10:01"], date(2024, 8, 5)),
    ],
)
def test_dates_in_each_language_and_notation(date_lines: list[str], expected: date) -> None:
    data = receipt_png(["CAFE DES SPORTS", *date_lines, "TOTAL TTC     12,50 EUR"])
    reading = ocr.read(data, "date.png")
    assert reading.date == expected, reading.text
    assert reading.total is not None and str(reading.total) == "12.50"


@pytest.mark.parametrize(
    ("lines", "merchant"),
    [
        (["BIENVENUE", "BOULANGERIE MARTIN", "8 rue des Lilas", "21000 DIJON", "Tel 03 80 12 34 56"], "BOULANGERIE"),
        (["TICKET CLIENT", "Hotel Beau Rivage", "12 avenue de la Mer"], "Beau Rivage"),
        (["Hauptstraße 12", "Apotheke am Markt", "Tel. 0761 123456"], "Apotheke am Markt"),
        (["tan woon yann", "GREEN LEAF TRADING SDN BHD", "NO 5, JALAN MERDEKA"], "GREEN LEAF TRADING SDN BHD"),
    ],
)
def test_merchant_skips_greetings_addresses_phones(lines: list[str], merchant: str) -> None:
    reading = ocr.read(receipt_png([*lines, "12/05/2025 12:00", "TOTAL 9,90 EUR"]), "merchant.png")
    assert reading.merchant is not None and merchant.upper() in reading.merchant.upper(), reading.text


def test_merchant_is_none_without_a_name() -> None:
    assert find_merchant("12/05/2025 12:00\n01 23 45 67 89\nTOTAL 9,90") is None


def _first(corpus: str, kind: str, damage_part: str = "") -> dict[str, object]:
    return next(i for i in labels(corpus) if i["kind"] == kind and damage_part in str(i["damage"]))


@pytest.mark.parametrize(
    ("corpus", "kind", "damage_part"),
    [
        ("receipts_expenses", "train", "text pdf"),
        ("receipts_expenses", "train", "blur"),  # a scanned e-ticket
        ("receipts_expenses", "coach", "curve"),
        ("receipts_expenses", "hotel", "crumple"),
        ("receipts_expenses", "toll", "thermal+table"),
        ("receipts_expenses", "parking", "crop"),
        ("receipts_expenses", "fuel", "motion"),
        ("receipts_expenses", "taxi", "curve"),
        ("receipts_expenses", "meal", "table+shadow"),
        ("receipts_expenses", "car_hire", "text pdf"),
        ("receipts_de", "meal", "table"),
        ("receipts_de", "fuel", "lowlight"),
        ("receipts_de", "other", "curve"),  # a supermarket
    ],
)
def test_kind_per_category_with_confidence(corpus: str, kind: str, damage_part: str) -> None:
    label = _first(corpus, kind, damage_part)
    reading = ocr.read((FIXTURES / corpus / str(label["file"])).read_bytes(), str(label["file"]))
    assert reading.kind == kind, (reading.kind, reading.kind_confidence, reading.text)
    assert 0.5 <= reading.kind_confidence <= 1.0
    assert reading.currency == label["currency"]


def test_a_receipt_with_no_kind_words_is_other_with_low_confidence() -> None:
    reading = ocr.read(receipt_png(["QUINCAILLERIE DUPONT", "Vis 4x40 x100  5,90", "TOTAL 5,90 EUR"]), "other.png")
    assert reading.kind == "other"
    assert reading.kind_confidence < 0.9


def test_ticket_departure_arrival_and_travel_date_from_a_photo() -> None:
    lines = [
        "SNCF VOYAGEURS  E-BILLET TGV INOUI",
        "Emis le 02/09/2024",
        "Aller le 14/09/2024",
        "Depart 07h42 BORDEAUX ST JEAN",
        "Arrivee 09h51 TOULOUSE MATABIAU",
        "Voiture 7 Place 61",
        "Prix total 45,00 EUR",
    ]
    reading = ocr.read(receipt_png(lines), "ticket.png")
    assert reading.kind == "train" and reading.trip is not None
    assert reading.trip.from_city == "BORDEAUX ST JEAN"
    assert reading.trip.to_city == "TOULOUSE MATABIAU"
    assert reading.trip.travel_date == date(2024, 9, 14) == reading.date
    assert reading.to_dict()["trip"] == {
        "from_city": "BORDEAUX ST JEAN",
        "to_city": "TOULOUSE MATABIAU",
        "travel_date": "2024-09-14",
    }


@pytest.mark.parametrize(("corpus", "damage_part"), [("receipts_expenses", "text pdf"), ("receipts_de", "text pdf")])
def test_ticket_cities_from_e_tickets(corpus: str, damage_part: str) -> None:
    label = _first(corpus, "train", damage_part)
    reading = ocr.read((FIXTURES / corpus / str(label["file"])).read_bytes(), str(label["file"]))
    trip = label["trip"]
    assert isinstance(trip, dict) and reading.trip is not None
    assert (reading.trip.from_city, reading.trip.to_city) == (trip["from_city"], trip["to_city"])
    assert reading.trip.travel_date is not None and reading.trip.travel_date.isoformat() == trip["travel_date"]
    assert reading.date is not None and reading.date.isoformat() == label["date"]  # not the birth or issue date


def test_currency_of_british_and_swiss_receipts() -> None:
    for label in labels("receipts_expenses"):
        if label["currency"] in ("GBP", "CHF") and "curve" not in str(label["damage"]):
            reading = ocr.read((FIXTURES / "receipts_expenses" / str(label["file"])).read_bytes())
            assert reading.currency == label["currency"], reading.text


def test_cli_shows_the_fields() -> None:
    application = typer.Typer()
    application.command("ocr")(ocr_command)
    application.command("other")(lambda: None)  # keeps "ocr" a sub-command
    label = _first("receipts_expenses", "train", "text pdf")
    path = str(FIXTURES / "receipts_expenses" / str(label["file"]))
    out = json.loads(CliRunner().invoke(application, ["ocr", path, "--json"]).output)
    assert out["kind"] == "train" and out["kind_confidence"] > 0.5 and out["merchant"] == label["merchant"]
    trip = label["trip"]
    assert isinstance(trip, dict) and out["trip"]["from_city"] == trip["from_city"]
    text = CliRunner().invoke(application, ["ocr", path]).output
    assert "nature : Billet de train" in text and "trajet : " in text
