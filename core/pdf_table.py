"""Tables, paragraphs and one-line cells on an fpdf2 page, drawn as ``FPDF.table()``, ``multi_cell()`` and
``cell()`` draw them, for a fraction of their cost.

fpdf breaks lines character by character, measuring the line again for each (``FPDF.table()`` twice per
cell: to size the row, then to draw it), and lays out even one line of plain text as styled fragments
(``cell()``, about 0.2 ms). Here a text that fits is measured once (widths of the core fonts cached), others
are broken at spaces, each word measured once, then placed with ``text()`` where fpdf would put them
(justified lines spread as fpdf spreads them); only what words cannot break (a word wider than the line, tabs)
goes through fpdf. The layout is the same: a padding around each cell, text centred vertically in its row, a
page break before a row that does not fit, the heading row repeated at the top of the new page (and never
left alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from fpdf.fonts import CORE_FONTS_CHARWIDTHS, CoreFont
from fpdf.util import Padding

Color = tuple[int, int, int]
PADDING = 1.0  # mm on every side of a cell's text


@dataclass(frozen=True)
class Column:
    """A column: its width (mm), alignment ("L" or "R") and text colour."""

    width: float
    align: str = "L"
    color: Color | None = None


@dataclass(frozen=True)
class _Row:
    cells: list[list[str]]  # each cell's lines
    height: float
    bold: bool


def _plain(pdf: FPDF) -> bool:
    """Text in the current font is plain: a core font, no shaping, spacing, stretching or lines through it."""
    return isinstance(pdf.current_font, CoreFont) and not (
        pdf.text_shaping or pdf.char_spacing or pdf.font_stretching != 100 or pdf.underline or pdf.strikethrough
    )


@lru_cache(maxsize=8192)
def _units(fontkey: str, text: str) -> int:
    """The width of ``text`` (as fpdf encodes it) in a core font, in thousandths of the font size."""
    widths = CORE_FONTS_CHARWIDTHS[fontkey]
    return sum(widths[c] for c in text)


def _width(pdf: FPDF, text: str) -> float:
    """``pdf.get_string_width(text)`` for plain text in the current font, from the font's character widths
    (``get_string_width`` copies the whole graphics state for each call: most of a cell's cost)."""
    font = pdf.current_font
    if not _plain(pdf):
        return pdf.get_string_width(text)
    assert isinstance(font, CoreFont)
    return _units(font.fontkey, pdf.normalize_text(text)) * pdf.font_size_pt * 0.001 / pdf.k


def _style(pdf: FPDF, style: str) -> None:
    """``pdf.set_font(style=style)`` when the style changes (``set_font`` costs even when nothing does)."""
    if pdf.font_style != style:
        pdf.set_font(style=style)


def _words_wrapped(pdf: FPDF, text: str, width: float) -> list[str] | None:
    """``text`` broken at single spaces into lines at most ``width`` wide, as fpdf breaks words; None for
    anything else (several spaces, tabs, line breaks, soft hyphens, a word wider than the line). Each word is
    measured once: a line's width is its words' and spaces' (the core fonts have no kerning)."""
    if any(c in text for c in "\n\t\u00ad") or "  " in text:
        return None
    if not text.startswith(" ") and _width(pdf, text) <= width:  # most cells: one line, measured once
        return [text]
    space = _width(pdf, " ")
    lines: list[str] = []
    line, used = "", 0.0
    for word in text.split(" "):
        size = _width(pdf, word)
        if line and used + space + size <= width:
            line, used = f"{line} {word}", used + space + size
            continue
        if size > width:
            return None
        if line:
            lines.append(line)
        line, used = word, size
    return [*lines, line]


def _lines(pdf: FPDF, text: str, width: float, line_height: float) -> list[str]:
    """The lines of ``text`` in a cell ``width`` wide (fpdf's line breaking only for what words cannot do)."""
    wrapped = _words_wrapped(pdf, text, width - 2 * PADDING)
    if wrapped is not None:
        return wrapped
    padding = Padding.new(PADDING)
    lines = pdf.multi_cell(width, line_height, text, padding=padding, dry_run=True, output=MethodReturnValue.LINES)
    assert isinstance(lines, list)
    return [str(line) for line in lines] or [""]


def _layout(pdf: FPDF, texts: Sequence[str], columns: Sequence[Column], line_height: float, bold: bool) -> _Row:
    _style(pdf, "B" if bold else "")
    cells = [_lines(pdf, text, column.width, line_height) for text, column in zip(texts, columns, strict=True)]
    _style(pdf, "")
    return _Row(cells, max(len(lines) for lines in cells) * line_height + 2 * PADDING, bold)


def _draw(pdf: FPDF, row: _Row, columns: Sequence[Column], line_height: float, ruled: str, fill: Color | None) -> None:
    x, y = pdf.l_margin, pdf.y
    ink, paint = pdf.text_color, pdf.fill_color
    _style(pdf, "B" if row.bold else "")
    if fill is not None:
        pdf.set_fill_color(*fill)
    for lines, column in zip(row.cells, columns, strict=True):
        if ruled == "grid":
            pdf.rect(x, y, column.width, row.height, style="DF" if fill is not None else "D")
        if column.color is not None:
            pdf.set_text_color(*column.color)
        top = y + (row.height - len(lines) * line_height) / 2
        for k, line in enumerate(lines):  # where cell(column.width, line_height, line) puts it, padded
            left = x + column.width - PADDING - _width(pdf, line) if column.align == "R" else x + PADDING
            pdf.text(left, top + (k + 0.5) * line_height + 0.3 * pdf.font_size, line)
        pdf.text_color = ink
        x += column.width
    _style(pdf, "")
    if fill is not None and paint is not None:
        pdf.set_fill_color(paint)
    pdf.set_xy(pdf.l_margin, y + row.height)


def draw_table(
    pdf: FPDF,
    rows: Sequence[Sequence[str]],
    columns: Sequence[Column],
    *,
    line_height: float,
    ruled: str = "grid",
    heading_fill: Color | None = None,
) -> None:
    """Draw ``rows`` at the left margin in the current font. ``ruled``: "grid" (every cell boxed, the first
    row a bold heading shaded with ``heading_fill``) or "lines" (a rule between two rows, no heading)."""
    heading = ruled == "grid"
    laid = [_layout(pdf, row, columns, line_height, heading and i == 0) for i, row in enumerate(rows)]
    right = pdf.l_margin + sum(c.width for c in columns)
    for i, row in enumerate(laid):
        needed = row.height + (laid[1].height if heading and i == 0 and len(laid) > 1 else 0)
        if pdf.will_page_break(needed):
            pdf.add_page()
            if heading and i > 0:
                _draw(pdf, laid[0], columns, line_height, ruled, heading_fill)
        if ruled == "lines" and i > 0:  # the rule above this row (fpdf draws it with the one below the last)
            pdf.line(pdf.l_margin, pdf.y, right, pdf.y)
        _draw(pdf, row, columns, line_height, ruled, heading_fill if heading and i == 0 else None)
        if ruled == "lines" and i < len(laid) - 1:
            pdf.line(pdf.l_margin, pdf.y, right, pdf.y)


def write_text(pdf: FPDF, w: float, h: float, text: str, *, align: str = "J", new_x: str = "LMARGIN") -> None:
    """``pdf.multi_cell(w, h, text, align=align, new_x=new_x, new_y="NEXT")``, broken into lines at single
    spaces here (fpdf's line breaking only for what words cannot do: it costs about half a millisecond even
    for one short line). Justified text is spread to the full width on each line but a paragraph's last."""
    x = pdf.x
    width = w or pdf.w - pdf.r_margin - x
    paragraphs = [_words_wrapped(pdf, line, width - 2 * pdf.c_margin) for line in text.split("\n")]
    if any(lines is None for lines in paragraphs):
        pdf.multi_cell(w, h, text, align=align, new_x=new_x, new_y="NEXT")
        return
    for lines in paragraphs:
        assert lines is not None
        for k, line in enumerate(lines):
            pdf.set_x(x)
            if align == "J" and k < len(lines) - 1:
                _justified(pdf, width, h, line)
            else:
                write_line(pdf, width, h, line, align="L" if align == "J" else align, new_x="LEFT", new_y="NEXT")
    pdf.set_x(x if new_x == "LEFT" else pdf.l_margin)


def write_line(
    pdf: FPDF,
    w: float,
    h: float,
    text: str,
    *,
    align: str = "L",
    new_x: Literal["LEFT", "RIGHT", "LMARGIN"] = "RIGHT",
    new_y: Literal["TOP", "NEXT"] = "TOP",
) -> None:
    """``pdf.cell(w, h, text, align=align, new_x=new_x, new_y=new_y)`` (no border, no fill): one line of plain
    text, placed where ``cell()`` places it (a page break first when it does not fit)."""
    if not _plain(pdf) or "\n" in text or (pdf.str_alias_nb_pages and pdf.str_alias_nb_pages in text):
        pdf.cell(w, h, text, align=align, new_x=new_x, new_y=new_y)
        return
    if pdf.will_page_break(h):
        x = pdf.x
        pdf.add_page(same=True)
        pdf.x = x
    x, y = pdf.x, pdf.y
    width = w or pdf.w - pdf.r_margin - x
    if text:
        used = _width(pdf, text)
        left = {"R": x + width - pdf.c_margin - used, "C": x + (width - used) / 2}.get(align, x + pdf.c_margin)
        pdf.text(left, y + 0.5 * h + 0.3 * pdf.font_size, text)
    pdf.set_xy({"RIGHT": x + width, "LEFT": x}.get(new_x, pdf.l_margin), y + h if new_y == "NEXT" else y)


def _justified(pdf: FPDF, width: float, h: float, line: str) -> None:
    """One line of words spread over ``width`` (less the cell margins), where ``cell()`` would put it."""
    if pdf.will_page_break(h):
        pdf.add_page()
    words = line.split(" ")
    x, y = pdf.x, pdf.y
    gap = (width - 2 * pdf.c_margin - sum(_width(pdf, word) for word in words)) / max(len(words) - 1, 1)
    left = x + pdf.c_margin
    for k, word in enumerate(words):  # each word with its space (copied text keeps it), then the gap
        pdf.text(left, y + 0.5 * h + 0.3 * pdf.font_size, word if k == len(words) - 1 else f"{word} ")
        left += _width(pdf, word) + gap
    pdf.set_xy(x, y + h)
