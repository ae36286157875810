"""core.pdf_table draws what fpdf's own table(), multi_cell() and cell() draw: same words at the same places, the
same line breaks (checked against fpdf itself, on generated text)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pdfplumber
import pytest
from fpdf import FPDF, FontFace
from fpdf.enums import MethodReturnValue
from fpdf.util import Padding
from hypothesis import given, settings
from hypothesis import strategies as st

from core.pdf_table import PADDING, Column, _width, _words_wrapped, draw_table, write_line, write_text

ROWS = [
    ["N°", "Départ", "Mode", "Montant"],
    ["1", "30/11/2026 07:10", "Train, car ou transport en commun, puis autocar de la ligne 12", "12,00 €"],
    ["2", "30/11/2026 19:00", "Véhicule personnel", "—"],
    *[[str(i), "01/12/2026 08:00", "Taxi", f"{i},50 €"] for i in range(3, 45)],  # over a page: headings again
]
WIDTHS = (20, 50, 70, 40)  # the page width (fpdf scales its columns to it)


def _page() -> FPDF:
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"  # as the recap form: « € », « — »; its margins too
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", "", 9)
    return pdf


def _words(draw: Callable[[FPDF], None]) -> list[tuple[int, str, float, float]]:
    pdf = _page()
    draw(pdf)
    with pdfplumber.open(io.BytesIO(bytes(pdf.output()))) as doc:
        return [
            (n, w["text"], round(w["x0"]), round(w["top"]))
            for n, page in enumerate(doc.pages)
            for w in page.extract_words()
        ]


def test_a_grid_is_laid_out_as_fpdf_table_lays_it_out() -> None:
    def with_fpdf(pdf: FPDF) -> None:
        heading = FontFace(emphasis="BOLD", fill_color=(230, 235, 241))
        align = ("LEFT", "LEFT", "LEFT", "RIGHT")
        with pdf.table(
            col_widths=WIDTHS, headings_style=heading, line_height=5.5, padding=PADDING, text_align=align
        ) as table:
            for line in ROWS:
                row = table.row()
                for value in line:
                    row.cell(value)

    def with_ours(pdf: FPDF) -> None:
        columns = [Column(w, "R" if i == 3 else "L") for i, w in enumerate(WIDTHS)]
        draw_table(pdf, ROWS, columns, line_height=5.5, heading_fill=(230, 235, 241))

    theirs, ours = _words(with_fpdf), _words(with_ours)
    assert {page for page, *_ in ours} == {0, 1}
    assert ours == theirs


def test_short_lines_are_written_where_multi_cell_writes_them() -> None:
    text = "État de frais de mission\nRécapitulatif"

    def with_fpdf(pdf: FPDF) -> None:
        pdf.multi_cell(85, 7, text, align="R", new_x="LEFT", new_y="NEXT")
        pdf.multi_cell(0, 5, "- Total déclaré 32,40 € mais aucun justificatif reçu.", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(20, 5, "suite")

    def with_ours(pdf: FPDF) -> None:
        write_text(pdf, 85, 7, text, align="R", new_x="LEFT")
        write_text(pdf, 0, 5, "- Total déclaré 32,40 € mais aucun justificatif reçu.")
        pdf.cell(20, 5, "suite")

    assert _words(with_ours) == _words(with_fpdf)


def test_one_line_cells_are_written_where_cell_writes_them() -> None:
    def draw(cell: Callable[..., None]) -> Callable[[FPDF], None]:
        def lines(pdf: FPDF) -> None:
            pdf.set_y(270)  # the third line does not fit: a new page, the position kept
            pdf.set_x(40)
            cell(pdf, 60, 7, "Intervenant", new_x="LEFT", new_y="NEXT")
            pdf.set_font("helvetica", "B", 11)
            cell(pdf, 60, 7, "Déclaration", align="R", new_x="RIGHT", new_y="NEXT")
            cell(pdf, 0, 9, "Attestation et signatures", align="C", new_x="LMARGIN", new_y="NEXT")
            cell(pdf, 30, 5, "")
            cell(pdf, 30, 5, "Date et signature")
            pdf.cell(20, 5, "suite")

        return lines

    def with_fpdf(pdf: FPDF, w: float, h: float, text: str, **kwargs: str) -> None:
        pdf.cell(w, h, text, **kwargs)

    ours = _words(draw(write_line))
    assert {page for page, *_ in ours} == {0, 1}
    assert ours == _words(draw(with_fpdf))


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàWM0123456789,.()€-", min_size=1, max_size=14), max_size=25
    ),
    width=st.integers(min_value=15, max_value=120),
)
def test_words_are_wrapped_as_fpdf_wraps_them(words: list[str], width: int) -> None:
    pdf = _page()
    text = " ".join(words)
    assert _width(pdf, text) == pytest.approx(pdf.get_string_width(text))
    ours = _words_wrapped(pdf, text, width - 2 * PADDING)
    if ours is None:  # a word wider than the line: left to fpdf
        return
    theirs = pdf.multi_cell(width, 5, text, padding=Padding.new(PADDING), dry_run=True, output=MethodReturnValue.LINES)
    assert isinstance(theirs, list)
    assert [pdf.normalize_text(line) for line in ours] == ([str(line) for line in theirs] or [""])


def test_a_justified_paragraph_is_spread_as_multi_cell_spreads_it() -> None:
    text = (
        "Je soussigné(e) Mme Claire MARTIN certifie sur l'honneur l'exactitude des renseignements portés sur cet "
        "état de frais et des justificatifs joints, pour la mission n° DEMO-101 du 12 juin au lycée Malherbe."
    )

    def with_fpdf(pdf: FPDF) -> None:
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(120, 4, text, new_x="LMARGIN", new_y="NEXT")
        pdf.cell(20, 5, "suite")

    def with_ours(pdf: FPDF) -> None:
        write_text(pdf, 0, 5, text)
        write_text(pdf, 120, 4, text)
        pdf.cell(20, 5, "suite")

    ours = _words(with_ours)
    assert len({top for *_, top in ours}) >= 5  # several lines, each but a paragraph's last spread
    assert ours == _words(with_fpdf)
