"""The codebook of an extract: one row per column of each file, saying what it is, where
it came from and how it is coded. Descriptions come from the source specs and the
catalogue; codings of consent variables from the consent instrument's dictionary (the
REDCap choices, ``code, label``), so the codebook says what the form said."""

from dataclasses import dataclass

from cohort.csv_cells import write_csv
from cohort.research.catalogue import Dataset
from cohort.research.coarsen import FORMATS
from forms.spec import FormSpec

HEADER = ("dataset", "variable", "type", "description", "source", "coding")
PSEUDONYM = "pseudonym"
MOTHER_PSEUDONYM = "mother_pseudonym"
CODINGS = {"boolean": "true / false", "integer": "whole number", "number": "decimal number"}


@dataclass(frozen=True)
class Entry:
    dataset: str
    variable: str
    type: str
    description: str
    source: str
    coding: str

    def cells(self) -> tuple[str, ...]:
        return (self.dataset, self.variable, self.type, self.description, self.source, self.coding)


def _choices(form: FormSpec | None, field: str | None) -> str:
    if form is None or field is None:
        return ""
    found = [f for f in form.fields if f.name == field]
    return " | ".join(f"{c.code}, {c.label}" for c in found[0].choices) if found else ""


def entries(
    dataset: Dataset, variables: list[str], granularity: str, form: FormSpec | None
) -> list[Entry]:
    """The codebook rows of one dataset's file, in column order."""
    rows = [
        Entry(
            dataset.name,
            PSEUDONYM,
            "string",
            "This project's pseudonym for the participant: the same person in every "
            "file of this project's extracts, a different one in any other project",
            "cohort",
            "P followed by 20 hexadecimal digits",
        )
    ]
    if dataset.subject == "child":
        rows.append(
            Entry(
                dataset.name,
                MOTHER_PSEUDONYM,
                "string",
                "The child's mother's pseudonym in this project (joins to the mothers' files)",
                "cohort",
                "as pseudonym",
            )
        )
    for name in variables:
        var = dataset.variables[name]
        kind = FORMATS[granularity] if var.type == "date" else var.type
        coding = _choices(form, var.form_field) or CODINGS.get(var.type, "")
        rows.append(Entry(dataset.name, name, kind, var.description, dataset.title, coding))
    return rows


def as_csv(rows: list[Entry]) -> str:
    return write_csv([HEADER, *(r.cells() for r in rows)])


def _md(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def as_markdown(title: str, rows: list[Entry]) -> str:
    lines = [f"# Codebook: {title}", ""]
    for dataset in dict.fromkeys(r.dataset for r in rows):
        lines += [f"## {dataset}", "", "| " + " | ".join(HEADER[1:]) + " |"]
        lines.append("|" + "---|" * (len(HEADER) - 1))
        lines += [
            "| " + " | ".join(_md(c) for c in r.cells()[1:]) + " |"
            for r in rows
            if r.dataset == dataset
        ]
        lines.append("")
    return "\n".join(lines)
