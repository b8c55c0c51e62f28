"""Every CSV the platform writes opens in a spreadsheet as text, never as a formula.

A table of writers, each fed hostile cells where outside text can reach it (a label, a
group value, a description, a record's answer); the output is parsed back and no cell may
start like a formula. Each writer must also use the one shared rule
(``cohort.csv_cells.neutralise``), so a fix lands everywhere at once.
"""

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cohort import csv_cells
from cohort.governance import csv_export
from cohort.governance.tables import Table
from cohort.interop import redcap_formats
from cohort.research import codebook, query_table
from cohort.research.queries import Query, Result, Row

ROOT = Path(__file__).parents[2]
HOSTILE = ["=cmd|' /C calc'!A0", "+1+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
HARMLESS = ["-3.5", "+44", "plain", ""]


@pytest.mark.parametrize("cell", HOSTILE)
def test_a_formula_like_cell_is_quoted(cell):
    assert csv_cells.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", HARMLESS)
def test_numbers_and_plain_text_are_left_alone(cell):
    assert csv_cells.neutralise(cell) == cell


def _governance_table(cell: str) -> str:
    table = Table(key="k", title="t", columns=(cell, "n"), rows=((cell, (3,)),))
    return csv_export.table_csv(table, publishable=False, threshold=7, rounding=5)


def _query_result(cell: str) -> str:
    result = Result(Query(dataset="maternity", group_by=(cell,)), [Row(groups=(cell,), n=10)])
    return query_table.as_csv(result)


def _codebook(cell: str) -> str:
    return codebook.as_csv([codebook.Entry(cell, cell, "string", cell, cell, cell)])


def _redcap_export(cell: str) -> str:
    return redcap_formats.render([{"record_id": "1", "note": cell}], "csv", "records")


WRITERS: dict[str, tuple[Callable[[str], str], object]] = {
    "governance download": (_governance_table, csv_export),
    "research query table": (_query_result, query_table),
    "extract codebook": (_codebook, codebook),
    "REDCap API csv export": (_redcap_export, redcap_formats),
}


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.mark.parametrize("name", WRITERS)
@pytest.mark.parametrize("cell", HOSTILE)
def test_every_csv_writer_neutralises_formulas(name, cell):
    write, _ = WRITERS[name]
    assert [c for c in _cells(write(cell)) if csv_cells.is_formula(c)] == []


@pytest.mark.parametrize("name", WRITERS)
def test_a_carriage_return_in_a_cell_stays_in_its_cell(name):
    write, _ = WRITERS[name]
    rows = list(csv.reader(io.StringIO(write("two\rlines"))))
    assert "two\rlines" in [cell for row in rows for cell in row]


@pytest.mark.parametrize("name", WRITERS)
def test_every_csv_writer_uses_the_one_shared_rule(name):
    _, module = WRITERS[name]
    assert getattr(module, "write_csv", None) is csv_cells.write_csv


def _sources(pattern: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for package in ("cohort", "forms", "linkage_jobs")
        for path in (ROOT / package).rglob("*.py")
        if re.search(pattern, path.read_text(encoding="utf-8"))
    }


def test_no_csv_writer_is_missing_from_the_table():
    """A new CSV writer anywhere in the product must go through write_csv and be added above."""
    assert _sources(r"csv\.(writer|DictWriter)\(") == {
        "cohort/csv_cells.py",
        "cohort/cli/synth.py",  # synthetic identities for tests and demos: no outside text
    }
    assert _sources(r"import write_csv") == {
        "cohort/governance/csv_export.py",
        "cohort/research/query_table.py",
        "cohort/research/codebook.py",
        "cohort/interop/redcap_formats.py",
    }
