"""The cohort seen as a classic (non-longitudinal) REDCap project: its data dictionary,
instruments and export field names, in REDCap's metadata API names.

The project holds one instrument, the consent form's current version, with the study ID
as its record-id field (REDCap wants the record id first) and the consent's date after it
(not a question of the form: the record's own date, which a backfill sets). Every other
cell comes from the dictionary exactly as published, so a metadata export is that
dictionary with those two fields in front.
"""

import csv
import io
from dataclasses import dataclass
from functools import cached_property

from sqlmodel import Session

from cohort.capture import FORM
from forms import dictionary, registry
from forms.spec import FormSpec

RECORD_ID = "study_id"
RECORD_ID_LABEL = "Study ID"
CONSENT_DATE = "consent_date"
CONSENT_DATE_LABEL = "Date of this consent"
CONSENT_DATE_NOTE = "Exported: the day of her latest consent. Imported: when she answered"
COMPLETE = "2"  # REDCap's "Complete" form status
_KEYS = {text.lower(): key for key, header in dictionary.COLUMNS for text in (key, header)}


def complete_field(form: str) -> str:
    return f"{form}_complete"


def checkbox_column(name: str, code: str) -> str:
    """REDCap's export name of one checkbox option (lower case, dashes as underscores)."""
    return f"{name}___{code.lower().replace('-', '_')}"


def _dictionary_rows(csv_text: str) -> list[dict[str, str]]:
    """The published dictionary's rows keyed by metadata name, every column present."""
    records = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    keys = [_KEYS.get(cell.strip().lower(), "") for cell in records[0]]
    rows = []
    for cells in records[1:]:
        if any(cell.strip() for cell in cells):
            named = {key: cell for key, cell in zip(keys, cells, strict=False) if key}
            rows.append({key: named.get(key, "") for key, _ in dictionary.COLUMNS})
    return rows


@dataclass(frozen=True)
class Project:
    spec: FormSpec
    dictionary_text: str

    @property
    def form(self) -> str:
        return self.spec.name

    def _field(self, **cells: str) -> dict[str, str]:
        """A metadata row of a text field of the form that the dictionary does not hold."""
        return dict.fromkeys((key for key, _ in dictionary.COLUMNS), "") | {
            "form_name": self.form,
            "field_type": "text",
            **cells,
        }

    @cached_property
    def metadata(self) -> list[dict[str, str]]:
        """REDCap's metadata export: the record-id field, the consent's date, then the
        dictionary's rows."""
        return [
            self._field(field_name=RECORD_ID, field_label=RECORD_ID_LABEL),
            self._field(
                field_name=CONSENT_DATE,
                field_label=CONSENT_DATE_LABEL,
                field_note=CONSENT_DATE_NOTE,
                text_validation_type_or_show_slider_number="date_ymd",
            ),
            *_dictionary_rows(self.dictionary_text),
        ]

    @cached_property
    def columns(self) -> dict[str, list[str]]:
        """Field name -> its export columns, in form order: the record id and the
        consent's date first, a checkbox as one column per option, the form's
        ``_complete`` status last."""
        columns = {RECORD_ID: [RECORD_ID], CONSENT_DATE: [CONSENT_DATE]}
        for field in self.spec.answer_fields:
            if field.type == "checkbox":
                columns[field.name] = [checkbox_column(field.name, c) for c in field.codes]
            else:
                columns[field.name] = [field.name]
        columns[complete_field(self.form)] = [complete_field(self.form)]
        return columns

    @cached_property
    def checkboxes(self) -> frozenset[str]:
        return frozenset(field.name for field in self.spec.fields if field.type == "checkbox")

    @cached_property
    def identifier_fields(self) -> frozenset[str]:
        return frozenset(field.name for field in self.spec.fields if field.identifier)

    def instruments(self) -> list[dict[str, str]]:
        label = self.form.replace("_", " ").capitalize()
        return [{"instrument_name": self.form, "instrument_label": label}]

    def export_field_names(self, field: str | None = None) -> list[dict[str, str]]:
        """REDCap's exportFieldNames: each field's export columns and checkbox codes."""
        rows = []
        for name, columns in self.columns.items():
            if field not in (None, name) or name == complete_field(self.form):
                continue
            choices = self.spec.field(name).codes if name in self.checkboxes else ("",)
            rows.extend(
                {"original_field_name": name, "choice_value": code, "export_field_name": column}
                for code, column in zip(choices, columns, strict=True)
            )
        return rows


def load(session: Session, version: str | None = None) -> Project:
    """The project on the consent form's ``version`` (default: the current one)."""
    spec = registry.get(session, FORM, version) if version else registry.current(session, FORM)
    return Project(spec, registry.export(session, FORM, spec.version))
