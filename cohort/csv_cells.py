"""Cells of every CSV the platform writes. A cell a spreadsheet would run as a formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a plain
number such as ``-3.5``) gets a leading single quote, so it opens as the text it is (CSV
injection). Every CSV writer of the platform is ``write_csv``; one that writes CSV in SQL
(the extracts' DuckDB ``COPY``) tests ``FORMULA_STARTS`` the same way."""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula(text: str) -> bool:
    if not text.startswith(FORMULA_STARTS):
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False


def neutralise(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return "'" + text if is_formula(text) else text


def neutralise_row(cells: Iterable[object]) -> list[str]:
    return [neutralise(cell) for cell in cells]


def write_csv(rows: Iterable[Iterable[object]], *, dictionary: bool = False) -> str:
    """Rows as RFC 4180 CSV, every cell neutralised. Lines end in CRLF, so a carriage
    return inside a cell is quoted with it rather than splitting the row in a spreadsheet.

    A data dictionary is the one exception (``dictionary=True``): its cells are a form's
    definition, which must read back exactly, and REDCap's action tags (``@HIDDEN``) start
    like formulas."""
    out = io.StringIO()
    cells = rows if dictionary else (neutralise_row(row) for row in rows)
    csv.writer(out, lineterminator="\r\n").writerows(cells)
    return out.getvalue()
