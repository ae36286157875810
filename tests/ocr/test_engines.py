"""Both OCR engines on generated receipts: RapidOCR's lines, one engine missing, orientation, the total line
re-read when the receipt's other lines contradict it."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from PIL import Image, ImageFilter

import ocr
from ocr import engine, images, rapid, reading
from ocr.dates import find_date
from ocr.totals import find_total
from tests.ocr.receipt_images import jpeg, receipt

LINES = [
    "CAFE DE LA GARE",
    "12 rue des Lilas 14000 Caen",
    "Plat du jour        14,50",
    "Cafe                 2,20",
    "Eau minerale         3,80",
    "TOTAL EUR           20,50",
    "ESPECES             50,00",
    "RENDU               29,50",
    "Merci de votre visite",
]


def test_rapidocr_gives_lines_with_positions_and_confidences() -> None:
    img = receipt(LINES)
    out = rapid.recognize(img)
    assert len(out.lines) >= len(LINES) - 1
    assert len(out.spans) == len(out.lines)
    assert all(top < bottom for top, bottom in out.spans)
    assert [t for t, _ in out.spans] == sorted(t for t, _ in out.spans)  # top to bottom
    assert out.confidence > 80
    assert find_total(out.text).total == Decimal("20.50")


def test_boxes_on_one_row_form_one_line_left_to_right() -> None:
    boxes = [
        rapid.Box(300.0, 101.0, 380.0, 121.0, "20,50", 0.9),
        rapid.Box(40.0, 100.0, 140.0, 120.0, "TOTAL", 0.95),
        rapid.Box(40.0, 140.0, 60.0, 160.0, "X", 0.9),
    ]
    out = rapid.group_lines(boxes)
    assert out.lines == ("TOTAL 20,50", "X")


@pytest.mark.parametrize("only", ["tesseract", "rapidocr"])
def test_one_engine_alone_reads_and_says_so(
    only: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(engine.ENGINES_ENV, only)
    reading._NOTICES.clear()
    with caplog.at_level(logging.WARNING, logger="ocr.reading"):
        result = ocr.read(jpeg(receipt(LINES)), "ticket.jpg", time_limit=60)
    assert result.error is None and result.total == Decimal("20.50")
    assert any("alone" in r.getMessage() for r in caplog.records)


def test_tesseract_program_missing_gives_way_to_rapidocr(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without Tesseract: the program is not on PATH and tesserocr is off."""
    monkeypatch.setenv(engine.TESSEROCR_ENV, "0")
    monkeypatch.setattr(engine._local, "api", False, raising=False)
    monkeypatch.setattr(engine.pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    reading._NOTICES.clear()
    result = ocr.read(jpeg(receipt(LINES)), "ticket.jpg", time_limit=60)
    assert result.total == Decimal("20.50")
    assert any("Tesseract unavailable" in n for n in reading._NOTICES)


def test_no_engine_at_all_gives_a_french_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engine.ENGINES_ENV, "")
    result = ocr.read(jpeg(receipt(LINES)), "ticket.jpg", time_limit=30)
    assert result.total is None and result.error and "indisponible" in result.error


def _prepared(img: Image.Image) -> Image.Image:
    """The image as the pipeline hands it to the engines (cleaned, straightened, scaled)."""
    return images.straighten(images.clean(img))


def _photo(img: Image.Image, angle: int, seed: int) -> bytes:
    """A low-contrast, slightly blurred, noisy photo of the receipt, turned by `angle` degrees."""
    rng = np.random.default_rng(seed)
    a = np.asarray(img.filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float32) * 0.55 + 90
    a += rng.normal(0, 14, a.shape)
    photo = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).rotate(angle, expand=True, fillcolor=140)
    return jpeg(photo, quality=60)


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_turned_photo_is_read_the_right_way_up(angle: int) -> None:
    lines = [
        "STATION TOTAL ACCESS",
        "Route de Paris 50000 Saint-Lo",
        "Gazole 41,20 L x 1,799",
        "Montant HT          61,78",
        "TVA 20%             12,36",
        "MONTANT TTC         74,14",
        "CB SANS CONTACT     74,14",
        "Merci et bonne route",
    ]
    result = ocr.read(_photo(receipt(lines), angle, seed=angle), "photo.jpg", time_limit=90)
    assert result.error is None and result.total == Decimal("74.14")


def test_misread_total_is_re_read_on_its_line_and_cash_minus_change_decides() -> None:
    """The first reading took a 3 for the 8 of the total; cash - change states 48.15: the total's line,
    cropped from the real image and read again by both engines, confirms it."""
    lines = ["Pain 3.10", "Fromage 20.05", "Vin 26.00", "Remise -1.00", "TOTAL 48.15", "CASH 50.00", "CHANGE 1.85"]
    img = _prepared(receipt(lines, size=30))
    first = engine.recognize(img, 30)
    misread = tuple(line.replace("48.15", "43.15") for line in first.lines)
    assert misread != first.lines  # the line was read and then "misread"
    wrong = engine.OcrText(misread, first.confidence, first.words, first.boxes)
    result = find_total(wrong.text)
    assert result.total == Decimal("43.15") and result.doubtful
    deadline = reading._Deadline(60)
    fixed = reading._reread_total_line(img, wrong, result, deadline, use_tesseract=True, use_rapid=True)
    assert fixed is not None and fixed.total == Decimal("48.15")


def test_second_engine_rereads_the_amount_lines_and_the_receipt_then_agrees() -> None:
    """Tesseract's total unconfirmed (a misread digit): RapidOCR reads again only the lines stating an amount,
    cropped by Tesseract's boxes from the real image; cash - change then confirms the total's true value."""
    lines = ["Pain 3.10", "Fromage 20.05", "Vin 26.00", "Remise -1.00", "TOTAL 48.15", "CASH 50.00", "CHANGE 1.85"]
    img = _prepared(receipt(lines, size=30))
    first = engine.recognize(img, 30)
    misread = tuple(line.replace("48.15", "43.15") for line in first.lines)
    assert misread != first.lines
    wrong = engine.OcrText(misread, first.confidence, first.words, first.boxes)
    assert not find_total(wrong.text).confirmed
    second = reading._second_opinion(img, wrong)
    assert second is not None and second[1].total == Decimal("48.15") and second[1].confirmed
    assert "Pain" in second[0].text  # the lines without an amount stay Tesseract's


def test_date_line_misread_by_tesseract_is_read_again_by_the_second_engine() -> None:
    """Tesseract took the 8 of 2018 for a 6: RapidOCR reads the date's line again, cropped from the real image,
    and its date replaces the first one; the rest of the text stays Tesseract's."""
    img = _prepared(receipt(["CAFE DU PORT", "Date: 14/03/2018 17:57", "TOTAL 12.40", "Merci"], size=30))
    first = engine.recognize(img, 30)
    misread = engine.OcrText(
        tuple(line.replace("2018", "2016") for line in first.lines), first.confidence, first.words, first.boxes
    )
    assert "2016" in misread.text
    fixed = reading._date_second_look(img, misread, reading._Deadline(60))
    assert "14/03/2018" in fixed.text and "CAFE" in fixed.text
    assert ocr.read(jpeg(receipt(["CAFE DU PORT", "Date: 14/03/2018 17:57", "TOTAL 12.40"], size=30))).date == date(
        2018, 3, 14
    )


def test_a_date_tesseract_did_not_read_at_all_is_looked_for_on_the_lines_that_may_print_one() -> None:
    """Tesseract lost the dots of the date ("150124 11:20"): no date in its text; the line with a time of day
    is read again by RapidOCR and its date is kept."""
    img = _prepared(receipt(["BACKEREI MULLER", "Kaffee 4,35", "Summe 5,45", "15.01.24 11:20"], size=30))
    first = engine.recognize(img, 30)
    assert any("15.01.24" in line for line in first.lines)
    lost = engine.OcrText(
        tuple(line.replace("15.01.24", "150124") for line in first.lines), first.confidence, first.words, first.boxes
    )
    assert find_date(lost.text) is None
    assert find_date(reading._date_second_look(img, lost, reading._Deadline(60)).text) == date(2024, 1, 15)


def test_a_date_line_tesseract_cut_short_is_found_on_the_page_read_by_the_second_engine() -> None:
    """Tesseract cut the date's line short (its text and box stop at "Date:"): the line read again shows no date;
    RapidOCR reads the whole page and its line printing the date is added to Tesseract's reading, which is kept."""
    lines = ["SANYU SUPPLY", "Total 8.70", "CASH 10.00", "CHANGE 1.30", "INV NO: CS-77188 Date: 10/04/2017", "MERCI"]
    img = _prepared(receipt(lines, size=30))
    first = engine.recognize(img, 30)
    row = next(i for i, line in enumerate(first.lines) if "10/04/2017" in line)
    left, top, right, bottom = first.boxes[row]
    cut = first.lines[row].split("Date")[0] + "Date:"
    boxes = list(first.boxes)
    boxes[row] = (left, top, left + (right - left) * len(cut) // len(first.lines[row]), bottom)
    lines_cut = tuple(cut if i == row else line for i, line in enumerate(first.lines))
    lost = engine.OcrText(lines_cut, first.confidence, first.words, tuple(boxes))
    assert find_date(lost.text) is None
    found = reading._date_second_look(img, lost, reading._Deadline(60))
    assert find_date(found.text) == date(2017, 4, 10)
    assert found.lines[: len(lost.lines)] == lost.lines


def test_second_engine_agreeing_on_a_lone_total_is_not_enough() -> None:
    """Nothing else on the receipt states the total: two engines reading the same line do not confirm it."""
    img = _prepared(receipt(["CAFE DU PORT", "TOTAL 12.40", "Merci"], size=30))
    first = engine.recognize(img, 30)
    assert find_total(first.text).total == Decimal("12.40")
    assert reading._second_opinion(img, first) is None


def test_re_read_keeps_a_total_its_line_confirms() -> None:
    """Cash - change misread instead: the total's line says its own value again, nothing changes."""
    lines = ["Pain 3.10", "Fromage 20.05", "Vin 25.00", "TOTAL 48.15", "CASH 50.00", "CHANGE 1.65"]
    img = _prepared(receipt(lines, size=30))
    first = engine.recognize(img, 30)
    result = find_total(first.text)
    assert result.total == Decimal("48.15") and result.doubtful  # 50.00 - 1.65 = 48.35
    fixed = reading._reread_total_line(img, first, result, reading._Deadline(60), True, True)
    assert fixed is None


def test_a_line_read_alone_leaves_the_next_page_read_in_full() -> None:
    """RapidOCR keeps the steps of its previous call: a line read without detection (the total's line re-read)
    must not turn detection off for the pages read after it."""
    img = receipt(LINES)
    rapid.recognize_line(img.crop((0, 0, img.size[0], 60)))
    out = rapid.recognize(img)
    assert len(out.lines) >= len(LINES) - 1
    assert find_total(out.text).total == Decimal("20.50")


def _counting_rapid(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the pages RapidOCR reads (the real engine runs)."""
    calls: list[int] = []
    real = rapid.recognize

    def counted(img: Image.Image) -> engine.OcrText:
        calls.append(1)
        return real(img)

    monkeypatch.setattr(rapid, "recognize", counted)
    return calls


def test_second_engine_reads_only_totals_the_receipt_does_not_confirm(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting_rapid(monkeypatch)
    confirmed = ["BRASSERIE DU PORT", "Plat du jour 14,50", "Cafe 2,20", "TOTAL TTC 16,70", "CB SANS CONTACT 16,70"]
    result = ocr.read(jpeg(receipt(confirmed)), "ticket.jpg", time_limit=60)
    assert result.total == Decimal("16.70") and not calls  # the card line states the total again
    alone = ["BRASSERIE DU PORT", "Plat du jour 14,50", "Cafe 2,20", "TOTAL TTC 17,70"]  # nothing else states it
    result = ocr.read(jpeg(receipt(alone)), "ticket.jpg", time_limit=60)
    assert result.total == Decimal("17.70") and calls


def test_rows_of_a_tilted_page_do_not_chain_into_one_line() -> None:
    """Each box sits a little lower than the one to its left (a tilted or curved ticket): rows stay apart."""
    boxes = []
    for row in range(4):
        for col in range(3):
            top = 100.0 + 22 * row + 7 * col  # 7 px lower per column, rows 22 px apart, boxes 20 px tall
            boxes.append(rapid.Box(50.0 + 200 * col, top, 150.0 + 200 * col, top + 20, f"r{row}c{col}", 0.9))
    out = rapid.group_lines(boxes)
    assert out.lines == tuple(f"r{r}c0 r{r}c1 r{r}c2" for r in range(4))


def test_bands_cover_a_wide_page_each_within_the_budget() -> None:
    for width, height in [(1120, 1280), (1280, 1056), (1280, 960), (1280, 1280)]:
        rows, tops = rapid._bands(width, height)
        assert len(tops) > 1 and rows % 32 == 0 and width * rows <= rapid._DET_PIXELS
        assert tops[0] == 0 and tops[-1] + rows == height
        assert all(top + rows - following >= rapid._DET_OVERLAP for top, following in zip(tops, tops[1:], strict=False))
    assert rapid._bands(896, 1280) == (1280, [0])  # a receipt: detected whole


def test_a_wide_page_read_in_bands_reads_every_line_once() -> None:
    """Lines near where two bands meet are read once and whole."""
    lines = [f"Article {i:02d} quantite {i % 7 + 1}          {i + 3},{i % 10}0" for i in range(34)]
    img = receipt([*lines, "TOTAL EUR 99,90"], width=1300)
    _, tops = rapid._bands(*rapid._detection_size(rapid._as_array(img)[0]))
    assert len(tops) == 2
    out = rapid.recognize(img)
    assert len(out.lines) == len(lines) + 1 and find_total(out.text).total == Decimal("99.90")
    for i, line in enumerate(lines):  # each line once, whole: its number and its amount
        assert out.text.count(f"Article {i:02d}") == 1
        assert next(read for read in out.lines if f"Article {i:02d}" in read).endswith(line.split()[-1])
