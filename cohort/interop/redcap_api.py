"""REDCap's API over the cohort: what a ``POST /redcap/api/`` asks, answered as REDCap
answers it, for PyCap, REDCapR and scripts written against REDCap.

The project is classic (no events or arms), so ``formEventMapping`` is an error, as
REDCap says for such a project. Lists arrive as ``fields[0]=a&fields[1]=b`` (PyCap),
``fields[]=a`` or ``fields=a,b`` (REDCapR). A record import is the consent backfill: all
of it is recorded or, if any row is refused, none of it, as REDCap imports.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from cohort import audit, capture
from cohort.errors import CohortError, Forbidden
from cohort.interop import (
    backfill,
    filter_logic,
    redcap_dates,
    redcap_formats,
    redcap_metadata,
)
from cohort.interop.redcap_metadata import RECORD_ID, Project, complete_field
from cohort.interop.redcap_records import Record, add_identifiers, flat, records
from cohort.interop.roles import sees_identifiers
from cohort.keys import KeyRing
from cohort.models import Site, User
from forms import branching

VERSION = "14.0.0"  # the REDCap release whose API this follows
TEXT = "text"  # a plain answer (the version), whatever the format
OVERWRITE = ("normal", "overwrite")
RETURN_CONTENT = ("count", "ids", "auto_ids", "nothing")
MAX_LISTED_ERRORS = 20

BAD_CONTENT = 'The value of the parameter "content" is not valid'
CLASSIC = "You cannot export form/event mappings for classic projects"
NOT_VALID = 'The following values in the parameter "{name}" are not valid: {values}'
BAD_DATE = 'The value of "{name}" must be a date and time such as 2024-05-01 13:45:00'
ONLY = 'The parameter "{name}" may only be {allowed}'
IMPORTS_BY_MIDWIFE = "Only a midwife's token can import records: a consent is recorded at her site"
REFUSED = "{count} record(s) were refused and nothing was imported. {rows}"


@dataclass(frozen=True)
class Answer:
    body: str
    fmt: str  # json, csv, xml, or TEXT


class Params:
    """The posted fields, with REDCap's ways of sending a list."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        self.single = dict(items)

    def get(self, name: str, default: str = "") -> str:
        return self.single.get(name, default)

    def listed(self, name: str) -> list[str]:
        values = [
            v for k, v in self.items if k == name or (k.startswith(f"{name}[") and k.endswith("]"))
        ]
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def one_of(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.get(name, allowed[0])
        if value not in allowed:
            raise CohortError(ONLY.format(name=name, allowed=" or ".join(allowed)), field=name)
        return value


@dataclass
class Call:
    session: Session
    keys: KeyRing
    user: User
    params: Params
    source: str | None

    @property
    def fmt(self) -> str:
        return redcap_formats.check_format(self.params.get("format", "xml"))

    def project(self) -> Project:
        return redcap_metadata.load(self.session)


def error_format(params: Params) -> str:
    """Errors follow ``returnFormat``, else ``format``, else REDCap's default, xml."""
    for name in ("returnFormat", "format"):
        if params.get(name) in redcap_formats.FORMATS:
            return params.get(name)
    return "xml"


def _rows(call: Call, rows: list[dict], root: str, columns: list[str] | None = None) -> Answer:
    fmt = call.fmt
    return Answer(redcap_formats.render(rows, fmt, root, columns), fmt)


def _version(call: Call) -> Answer:
    return Answer(VERSION, TEXT)


def _project(call: Call) -> Answer:
    project = call.project()
    info = {
        "project_id": "1",
        "project_title": f"Birth cohort consents ({project.form} {project.spec.version})",
        "creation_time": "",
        "in_production": "1",
        "project_language": "English",
        "purpose": "2",
        "is_longitudinal": "0",
        "has_repeating_instruments_or_events": "0",
        "surveys_enabled": "0",
        "record_autonumbering_enabled": "1",
        "missing_data_codes": "",
    }
    return Answer(redcap_formats.render_one(info, call.fmt, "project"), call.fmt)


def _unknown(name: str, values: list[str]) -> CohortError:
    shown = ", ".join(f"'{value[:40]}'" for value in values[:10])
    return CohortError(NOT_VALID.format(name=name, values=shown), field=name)


def _check_forms(call: Call, project: Project) -> list[str]:
    forms = call.params.listed("forms")
    wrong = [form for form in forms if form != project.form]
    if wrong:
        raise _unknown("forms", wrong)
    return forms


def _metadata(call: Call) -> Answer:
    project = call.project()
    fields = call.params.listed("fields")
    _check_forms(call, project)
    wrong = [name for name in fields if name not in project.columns]
    if wrong:
        raise _unknown("fields", wrong)
    rows = [row for row in project.metadata if not fields or row["field_name"] in fields]
    return _rows(call, rows, "metadata")


def _instrument(call: Call) -> Answer:
    return _rows(call, call.project().instruments(), "instruments")


def _export_field_names(call: Call) -> Answer:
    project = call.project()
    field = call.params.get("field") or None
    if field is not None and field not in project.columns:
        raise _unknown("field", [field])
    return _rows(call, project.export_field_names(field), "fields")


def _classic(call: Call) -> Answer:
    raise CohortError(CLASSIC, field="content")


def _columns(call: Call, project: Project) -> list[str]:
    """The export columns asked for (all by default), the record id always first."""
    every = [column for columns in project.columns.values() for column in columns]
    wanted = set()
    forms = _check_forms(call, project)
    wrong = []
    for name in call.params.listed("fields"):
        if name in project.columns:
            wanted.update(project.columns[name])
        elif name in every:
            wanted.add(name)
        else:
            wrong.append(name)
    if wrong:
        raise _unknown("fields", wrong)
    if forms or not wanted:
        wanted.update(every)
    return [column for column in every if column in wanted or column == RECORD_ID]


def _moment(call: Call, name: str) -> datetime | None:
    text = call.params.get(name).strip()
    if not text:
        return None
    try:
        return redcap_dates.moment(text)
    except ValueError:
        raise CohortError(BAD_DATE.format(name=name), field=name) from None


def _in_range(record: Record, begin: datetime | None, end: datetime | None) -> bool:
    return (begin is None or record.changed_at >= begin) and (
        end is None or record.changed_at <= end
    )


def _export_records(call: Call) -> Answer:
    project = call.project()
    call.params.one_of("type", ("flat",))
    call.params.one_of("rawOrLabel", ("raw",))
    columns = _columns(call, project)
    names = set(project.columns) - {complete_field(project.form)}
    expr = filter_logic.parse(call.params.get("filterLogic"), names)
    wanted_ids = {study_id.upper() for study_id in call.params.listed("records")}
    begin, end = _moment(call, "dateRangeBegin"), _moment(call, "dateRangeEnd")
    chosen = [
        record
        for record in records(call.session, call.user)
        if (not wanted_ids or record.study_id in wanted_ids) and _in_range(record, begin, end)
    ]
    field_of = {column: name for name, cols in project.columns.items() for column in cols}
    read = {field_of[column] for column in columns}
    read |= set(branching.field_names(expr)) if expr is not None else set()
    identifiers = project.identifier_fields & read if sees_identifiers(call.user) else frozenset()
    add_identifiers(call.session, call.keys, chosen, frozenset(identifiers))
    kept = [record for record in chosen if filter_logic.keeps(expr, record.answers)]
    if not sees_identifiers(call.user):
        columns = [
            column for column in columns if field_of[column] not in project.identifier_fields
        ]
    _audit_export(call, kept, identifiers)
    rows = [flat(project, record.answers, columns) for record in kept]
    return _rows(call, rows, "records", columns)


def _audit_export(call: Call, kept: list[Record], identifiers: frozenset[str]) -> None:
    detail: dict[str, object] = {"records": len(kept), "identifiers": sorted(identifiers)}
    if identifiers:
        detail["study_ids"] = [record.study_id for record in kept]
    audit.record(
        call.session,
        actor=call.user.username,
        action="redcap.export",
        source=call.source,
        detail=detail,
    )


def _refusal(report: backfill.Report) -> CohortError:
    listed = " ".join(
        f"Row {result.row}: {result.reason}." for result in report.rejected[:MAX_LISTED_ERRORS]
    )
    return CohortError(REFUSED.format(count=len(report.rejected), rows=listed), field="data")


def _import_records(call: Call) -> Answer:
    if call.user.role not in capture.RECORDED_BY:
        raise Forbidden(IMPORTS_BY_MIDWIFE)
    project = call.project()
    call.params.one_of("type", ("flat",))
    update = call.params.one_of("overwriteBehavior", OVERWRITE)
    call.params.one_of("dateFormat", ("YMD",))  # dates as the form takes them
    wanted = call.params.one_of("returnContent", RETURN_CONTENT)
    rows = redcap_formats.read_rows(call.params.get("data"), call.params.get("format", "xml"))
    site = call.session.get(Site, call.user.site_id)
    report = backfill.import_rows(
        call.session,
        call.keys,
        project,
        rows,
        user=call.user,
        site_code=site.code,
        source=f"redcap-api {call.source or ''}".strip()[:64],
        update=update,
    )
    if report.rejected:
        raise _refusal(report)
    fmt = error_format(call.params)
    ids = [result.study_id for result in report.recorded if result.study_id]
    count = redcap_formats.render_one({"count": len(report.recorded)}, fmt, "count")
    bodies = {"count": count, "auto_ids": count, "ids": redcap_formats.render_ids(ids, fmt)}
    return Answer(bodies.get(wanted, ""), fmt)


def _record(call: Call) -> Answer:
    action = call.params.one_of("action", ("export", "import"))
    if action == "import" or "data" in call.params.single:
        return _import_records(call)
    return _export_records(call)


HANDLERS: dict[str, Callable[[Call], Answer]] = {
    "version": _version,
    "project": _project,
    "metadata": _metadata,
    "instrument": _instrument,
    "exportFieldNames": _export_field_names,
    "formEventMapping": _classic,
    "event": _classic,
    "arm": _classic,
    "record": _record,
}


def answer(call: Call) -> Answer:
    """The answer to one API call, or a ``CohortError`` to send in REDCap's error shape."""
    handler = HANDLERS.get(call.params.get("content"))
    if handler is None:
        raise CohortError(BAD_CONTENT, field="content")
    return handler(call)
