"""Consistency checks between lines (doubtful totals), voting between readings, faded prints in a frame."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ocr import images
from ocr.totals import find_total, settle


def test_cash_printed_negative_still_gives_cash_minus_change() -> None:
    result = find_total("Total RM 49.98\nCash -51.00\nCHANGE 10.00\n")
    assert Decimal("41.00") in {c.value for c in result.candidates if c.kind == "derived"}
    assert result.doubtful  # 51.00 - 10.00 contradicts the 49.98 read as total


def test_service_charge_is_not_change_given_back() -> None:
    result = find_total("Subtotal 41.30\nServ. Charge (10%): 4.13\nTOTAL: 45.43\nCASH 50.00\nCHANGE 4.57\n")
    assert result.total == Decimal("45.43")
    assert Decimal("45.87") not in {c.value for c in result.candidates}  # 50.00 - 4.13 "charge"
    assert not result.doubtful


def test_total_agreeing_with_cash_minus_change_or_its_rounding_is_not_doubtful() -> None:
    assert not find_total("TOTAL 18.80\nCASH 50.00\nCHANGE 31.20\n").doubtful
    assert not find_total("TOTAL 38.37\nROUNDING -0.02\nCASH 40.35\nCHANGE 2.00\n").doubtful
    assert find_total("TOTAL 16.00\nCASH 50.00\nCHANGE 31.20\n").doubtful


def test_total_below_several_item_prices_is_doubtful() -> None:
    text = "Almond Cake 22.50\nRetail Bag 36.00\nDrink 1.00\nTotal RM Including GST 13.30\n"
    assert find_total(text).doubtful  # a misread first digit: 73.30 printed
    assert not find_total("Cake 22.50\nBag 36.00\nDrink 1.00\nTotal 59.50\n").doubtful
    assert not find_total("Unit 19.90 Disc 4.00\nTotal 15.90\n").doubtful  # one dearer line: a discount


def test_amount_stable_across_readings_beats_a_total_whose_digits_change() -> None:
    first = find_total("TOTAL 16.00\nCASH 50.00\nCHANGE 31.20\n")
    second = find_total("TOTAL 18.40\nCASH 50.00\nCHANGE 31.20\n")
    settled = settle([first, second], first)
    assert settled is not None and settled.total == Decimal("18.80")
    assert settled.confidence < 0.5


def test_settle_keeps_a_total_that_is_not_contradicted() -> None:
    sure = find_total("TOTAL 18.80\nCASH 50.00\nCHANGE 31.20\n")
    other = find_total("TOTAL 16.00\nCASH 50.00\nCHANGE 31.20\n")
    assert settle([sure, other], sure) is None
    assert settle([other], other) is None  # one reading: nothing to compare


def test_faded_print_inside_a_dark_frame_is_stretched() -> None:
    img = Image.new("L", (400, 600), 245)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 399, 30), fill=20)  # scanner lid / torn edge
    for y in range(100, 500, 40):
        draw.text((60, y), "TOTAL 12.50", fill=190)  # faded thermal print
    out = np.asarray(images.normalize_light(img))
    assert out[100:500].min() < 100  # the text became dark
    assert np.median(out) >= 240  # the paper stayed white


def test_well_printed_receipt_is_left_untouched() -> None:
    img = Image.new("L", (400, 600), 250)
    draw = ImageDraw.Draw(img)
    for y in range(100, 500, 40):
        draw.text((60, y), "TOTAL 12.50", fill=10)
    assert images._stretch_faded_middle(img) is img


def test_double_height_line_is_found_below_the_header() -> None:
    img = Image.new("L", (400, 800), 240)
    draw = ImageDraw.Draw(img)
    for y in range(40, 600, 30):
        draw.rectangle((40, y, 180, y + 12), fill=30)  # ordinary text lines, 13 pixels
    draw.rectangle((40, 650, 180, 680), fill=30)  # a double-height TOTAL line, 31 pixels
    bands = images.tall_text_bands(img.filter(ImageFilter.GaussianBlur(0.7)))  # print-like edges
    assert len(bands) == 1
    top, bottom = bands[0]
    assert abs(top - 650) <= 3 and abs(bottom - 681) <= 3


def test_lines_read_alone_are_inserted_at_their_place() -> None:
    from ocr.engine import OcrText, with_lines

    ocr = OcrText(("Rounding Adj -0.01", "Closed 14:29"), 90.0, 5, ((20, 100, 400, 130), (20, 300, 300, 330)))
    merged = with_lines(ocr, [(200, "TOTAL: 48.15")], 600)
    assert merged.lines == ("Rounding Adj -0.01", "TOTAL: 48.15", "Closed 14:29")
    assert find_total(merged.text).total == Decimal("48.15")


def test_total_stated_again_by_another_line_is_confirmed() -> None:
    """A second engine is only asked when the receipt's own lines do not confirm the total."""
    assert find_total("Plat 14,50\nCafe 2,20\nTOTAL TTC 16,70\nCB SANS CONTACT 16,70\n").confirmed  # payment
    assert find_total("Netto 10,00\nMwSt 19% 1,90\nSUMME EUR 11,90\n").confirmed  # net + tax
    assert find_total("Pain 3,10\nVin 26,00\nTOTAL 29,10\n").confirmed  # sum of the items above
    assert find_total("TOTAL 18.80\nCASH 50.00\nCHANGE 31.20\n").confirmed  # cash - change


def test_tax_included_at_its_printed_rate_confirms_a_total_no_digit_misread_could_share() -> None:
    """ "dont TVA 20% 4,08" is the tax 24,50 includes, and no amount a misread digit away includes the same."""
    assert find_total("PARKING DU PORT\nA PAYER 24,50 EUR\ndont TVA 20% 4,08\n").confirmed
    assert find_total("Fahrpreis\nSUMME EUR 30,29\nMwSt 19% 4,84\n").confirmed
    # At 10% the tax of 39,68 is also the tax of 39,66, 39,67 and 39,69: it tells nothing of the last digit.
    assert not find_total("TAXI\nMONTANT TTC 39,68\ndont TVA 10% 3,61\n").confirmed
    assert not find_total("A PAYER 24,80 EUR\ndont TVA 20% 4,08\n").confirmed  # another amount's tax


def test_quantity_times_unit_price_confirms_the_total() -> None:
    """A fuel receipt: litres x price per litre is the amount paid."""
    result = find_total("SP95-E10\n49,78 L x 1,719 EUR/L\nBetrag 85,57 EUR\nKreditkarte 09,97\n")
    assert result.total == Decimal("85.57") and result.confirmed
    assert not find_total("26,17 L x 1,696 EUR/L\nMONTANT 44,83 EUR\n").confirmed  # 44,38 misread


def test_cash_paid_and_tax_words_of_english_receipts() -> None:
    """ "Paid Amount" is the cash handed over: minus the change, it is the total. "Total includes 6% GST 3.98"
    names the tax, not the total."""
    assert find_total("Total Amt Payable : 12.00\nPaid Amount 20.00\nChange : 8.00\n").confirmed
    text = "Burger 18.55\nTotal(incl GST) 70.30\nCash Tendered 70.30\nChange 0.00\nTOTAL INCLUDES 6% GST 3.98\n"
    assert find_total(text).total == Decimal("70.30")


def test_total_after_rounding_is_confirmed_by_the_total_and_the_adjustment() -> None:
    text = "Total Sales Incl. GST 100.62\nRounding Adjustment -0.02\nTotal After Rounding 100.60\n"
    result = find_total(text)
    assert result.total == Decimal("100.60") and result.confirmed
    assert not find_total("Total Sales 100.62\nRounding Adjustment -0.02\nTotal After Rounding 100.80\n").confirmed


def test_total_no_other_line_states_or_one_contradicts_is_not_confirmed() -> None:
    alone = find_total("Plat 14,50\nCafe 2,20\nTOTAL TTC 17,70\n")
    assert alone.total == Decimal("17.70") and not alone.confirmed
    contradicted = find_total("TOTAL 16.00\nCASH 50.00\nCHANGE 31.20\n")
    assert contradicted.doubtful and not contradicted.confirmed
    assert not find_total("Ref 1234 12.40\nQte 3 8.00\n").confirmed  # the largest amount, no total word


def test_a_tax_line_stating_its_amount_is_not_a_vat_table_header() -> None:
    """A header names columns; "GST 6% RM0.23" states the tax, and the paid total below it is a total."""
    text = "Parking Fee RM4.00\nAmount RM3.77\nGST 6.00 % RM0.23\nPaid Total 4.00 RM4.00 RM4.00\nChange RM0.00\n"
    assert find_total(text).total == Decimal("4.00")


def test_vat_table_rate_column_is_not_the_tax() -> None:
    """A summary with rate, net and tax columns (no gross): gross = net + the tax, not net + the rate."""
    text = "TOTAL 58.30\nVISA 63.80\nGST Summary % Amount(RM) Tax(RM)\nSR 6.00 60.19 3.61\n"
    result = find_total(text)
    assert Decimal("63.80") in {c.value for c in result.candidates if c.kind == "derived"}
    assert Decimal("66.19") not in {c.value for c in result.candidates}


def test_a_total_whose_incl_was_misread_is_neither_excluded_nor_a_tax() -> None:
    """ "Incl." read "IncI." still says tax included; and a "tax" larger than 30% of the net is not a tax (a
    total whose label was misread): net + the real tax stands in for a total misread below the net."""
    assert find_total("Net 73.87\nGST 4.43\nTotal IncI GST 78.30\n").total == Decimal("78.30")
    result = find_total("Amt excl GST 73.87\nGST AMT 4.43\nGST 78.30\nTOTAL 72.10\n")
    assert result.total == Decimal("78.30")
    assert Decimal("152.17") not in {c.value for c in result.candidates}


def test_vat_table_with_a_two_line_header_keeps_its_total_row_out() -> None:
    """The table's header goes on over a second line: its "TOTAL" row (net and tax) is still a table row."""
    text = (
        "AMT PAID Incl. GST: RM78.30\nGST AMT: RM4.43\nGST Summary AMT(RM) TAX(RM)\n(excl GST)\n"
        "SR(6%) 73.87 4.43\nZR(0%) 0.00 0.00\nTOTAL 73.87 4.43\n"
    )
    assert find_total(text).total == Decimal("78.30")


def test_rounded_total_wins_however_often_the_exact_one_is_repeated() -> None:
    text = "Item 20.00\nItem 5.44\nTotal Sales 25.44\nRounding Adj 0.01\nAmount 25.45\nVisa 25.44\nTotal Sales 25.44\n"
    assert find_total(text).total == Decimal("25.45")


def test_cents_printed_without_their_leading_zero_are_read() -> None:
    result = find_total("TOTAL RM 9.60\nCASH RM 10.00\nCHANGE RM .40\n")
    assert result.total == Decimal("9.60") and result.confirmed  # 10.00 - .40 confirms it


def test_a_rounding_line_printing_the_rounded_total_gives_the_total_paid() -> None:
    text = "Total Sales (Inclusive GST) RM 13.58\nRounding Adjustment RM 0.02\nRounding RM 13.60\nCASH RM 14.00\n"
    assert find_total(text).total == Decimal("13.60")
    assert find_total("Total RM 13.58\nRounding RM 0.00\nCASH RM 14.00\n").total == Decimal("13.58")
