"""Cells of every CSV the platform writes. A cell a spreadsheet would run as a formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a plain
number such as ``-3.5``) gets a leading single quote, so it opens as the text it is (CSV
injection). Every CSV writer passes its cells through ``neutralise``; one that writes CSV
in SQL (the extracts' DuckDB ``COPY``) tests ``FORMULA_STARTS`` the same way."""

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
