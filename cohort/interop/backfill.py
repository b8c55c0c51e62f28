"""Consents recorded before the platform existed (an EPR extract, a spreadsheet, a REDCap
export), in REDCap's flat record shape, taken row by row through ``cohort.capture``: the
same validation, vault, idempotency and audit as a midwife's form.

Each row gets a stable submission token (site, form version and the woman's NHS number
blind index, or the row's record id for a decline), so importing a file again, or a row
twice, records nothing new. The ``consent_date`` field (a REDCap date or date-time; empty:
now) says when she answered: the record is dated then, her age is checked (and banded) as
it was then, and the consent-rate roll-up counts again the closed days it joins. The
report gives each row's outcome with a reason that names fields and rules, never a value.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session

from cohort import access, audit, capture, consent, idempotency, vault
from cohort.consent import AlreadyEnrolled
from cohort.errors import CohortError, Conflict
from cohort.governance import rollup
from cohort.interop import redcap_dates
from cohort.interop.redcap_metadata import CONSENT_DATE, RECORD_ID, Project
from cohort.keys import KeyRing
from cohort.models import Participant, User
from forms.spec import FIXED_CHOICES

ACCEPTED = "accepted"
ALREADY_IMPORTED = "already imported"
IN_COHORT = "already in the cohort"
DUPLICATE = "duplicate"
REJECTED = "rejected"

# Columns REDCap adds to an export that carry nothing to import.
REDCAP_COLUMNS = frozenset(
    {
        "redcap_event_name",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
        "redcap_data_access_group",
        "redcap_survey_identifier",
    }
)
TICKED = {
    "1": True,
    "True": True,
    "true": True,
    "0": False,
    "False": False,
    "false": False,
    "": False,
}
BOOLEANS = {"True": "1", "true": "1", "False": "0", "false": "0"}
TOKEN_PREFIX = "backfill-"  # noqa: S105 (a submission token prefix, not a secret)

UNKNOWN_COLUMNS = "The following fields are not in the project: {names}"
NO_ROWS = "The file has no records to import"
NOT_A_TICK = "{column}: give 1 (ticked) or 0 (not ticked)"
SAME_AS = "the same woman as row {row}"
BAD_CONSENT_DATE = f"{CONSENT_DATE}: give the date as {redcap_dates.EXAMPLE}"
OTHER_SITE = "at another site"
IN_COHORT_AS = "study ID {study_id}"


@dataclass(frozen=True)
class RowResult:
    row: int  # as a spreadsheet numbers it: the header is row 1
    status: str
    reason: str = ""
    study_id: str | None = None
    taken_at: datetime | None = None  # when she answered, if the row says


@dataclass(frozen=True)
class Report:
    results: tuple[RowResult, ...]

    def count(self, status: str) -> int:
        return sum(result.status == status for result in self.results)

    @property
    def accepted(self) -> list[RowResult]:
        return [result for result in self.results if result.status == ACCEPTED]

    @property
    def rejected(self) -> list[RowResult]:
        return [result for result in self.results if result.status == REJECTED]

    def not_recorded(self) -> list[dict[str, object]]:
        """The rows not recorded, grouped by outcome and reason (for the audit trail)."""
        groups: dict[tuple[str, str], list[int]] = {}
        for result in self.results:
            if result.status != ACCEPTED:
                groups.setdefault((result.status, result.reason), []).append(result.row)
        return [
            {"status": status, "reason": reason, "rows": rows}
            for (status, reason), rows in groups.items()
        ]

    def summary(self) -> dict[str, int]:
        statuses = (ACCEPTED, ALREADY_IMPORTED, IN_COHORT, DUPLICATE, REJECTED)
        return {status: self.count(status) for status in statuses}


def check_columns(project: Project, columns: Sequence[str]) -> None:
    """Refuse the whole file if it names a column the project does not have."""
    known = {column for names in project.columns.values() for column in names}
    unknown = [c for c in columns if c not in known and c not in REDCAP_COLUMNS]
    if unknown:
        shown = ", ".join(name[:40] for name in unknown[:10])
        raise CohortError(UNKNOWN_COLUMNS.format(names=shown), field="data")


def answers_from_row(project: Project, row: Mapping[str, str]) -> dict[str, object]:
    """The form's answers a flat row gives: ticked codes for a checkbox, "1"/"0" for a
    yes/no (or True/False), the text of any other field; absent columns stay unanswered."""
    answers: dict[str, object] = {}
    for field in project.spec.answer_fields:
        columns = project.columns[field.name]
        if field.name in project.checkboxes:
            if not any(column in row for column in columns):
                continue
            ticked = []
            for code, column in zip(field.codes, columns, strict=True):
                mark = row.get(column, "").strip()
                if mark not in TICKED:
                    raise CohortError(NOT_A_TICK.format(column=column), field=column)
                if TICKED[mark]:
                    ticked.append(code)
            answers[field.name] = ticked
        elif field.name in row:
            value = row[field.name]
            answers[field.name] = (
                BOOLEANS.get(value.strip(), value) if field.type in FIXED_CHOICES else value
            )
    return answers


def taken_at(row: Mapping[str, str]) -> datetime | None:
    """When she answered, if the row says (None: now), checked as every record's date is."""
    text = str(row.get(CONSENT_DATE) or "").strip()
    if not text:
        return None
    try:
        return consent.check_taken_at(redcap_dates.moment(text))
    except ValueError:
        raise CohortError(BAD_CONSENT_DATE, field=CONSENT_DATE) from None
    except CohortError as exc:
        raise CohortError(f"{CONSENT_DATE}: {exc.message}", field=CONSENT_DATE) from None


def row_token(keys: KeyRing, site: str, project: Project, row: Mapping[str, str]) -> str:
    """The row's submission token: the same woman (or record) always gets the same one."""
    try:
        who = "nhs:" + vault.blind_index(keys, str(row.get("nhs_number", "")))
    except CohortError:
        record_id = str(row.get(RECORD_ID, "")).strip()
        who = "record:" + (record_id or json.dumps(sorted(row.items())))
    digest = hashlib.sha256(f"{site}|{project.form}|{project.spec.version}|{who}".encode())
    return TOKEN_PREFIX + digest.hexdigest()[:48]


def _reason(exc: capture.InvalidAnswers) -> str:
    return "; ".join(f"{field}: {message}" for field, message in exc.errors.items())


def _enrolled(user: User, exc: AlreadyEnrolled) -> RowResult:
    here = access.can_reach(user, Participant(study_id=exc.study_id, site_id=exc.site_id))
    if not here:
        return RowResult(0, IN_COHORT, OTHER_SITE)
    return RowResult(0, IN_COHORT, IN_COHORT_AS.format(study_id=exc.study_id), exc.study_id)


def _one_row(
    session: Session,
    keys: KeyRing,
    project: Project,
    row: Mapping[str, str],
    *,
    user: User,
    token: str,
    source: str,
) -> RowResult:
    try:
        answers = answers_from_row(project, row)
        when = taken_at(row)
        done = capture.record_answers(
            session,
            keys,
            project.spec,
            answers,
            user=user,
            token=token,
            source=source,
            taken_at=when,
        )
    except capture.InvalidAnswers as exc:
        return RowResult(0, REJECTED, _reason(exc))
    except AlreadyEnrolled as exc:
        return _enrolled(user, exc)
    except Conflict as exc:
        if exc.field == idempotency.FIELD:  # imported before, by someone else
            return RowResult(0, ALREADY_IMPORTED)
        return RowResult(0, REJECTED, exc.message)
    except CohortError as exc:
        return RowResult(0, REJECTED, exc.message)
    if done.replayed:
        return RowResult(0, ALREADY_IMPORTED, study_id=done.result.get("study_id"))
    return RowResult(0, ACCEPTED, study_id=done.result.get("study_id"), taken_at=when)


def import_rows(
    session: Session,
    keys: KeyRing,
    project: Project,
    rows: Sequence[Mapping[str, str]],
    *,
    user: User,
    site_code: str,
    source: str,
) -> Report:
    """Take each row through the consent capture path. The capture path audits each row
    recorded; one event audits the import, with every row not recorded and why. Back-dated
    records are recounted into the roll-up's closed days in the same transaction."""
    if not rows:
        raise CohortError(NO_ROWS, field="data")
    columns = list(dict.fromkeys(c for row in rows for c in row))
    check_columns(project, columns)
    if CONSENT_DATE in columns:  # before any write: see rollup.hold
        rollup.hold(session)
    seen: dict[str, int] = {}
    results = []
    for number, row in enumerate(rows, start=2):
        token = row_token(keys, site_code, project, row)
        if token in seen:
            result = RowResult(number, DUPLICATE, SAME_AS.format(row=seen[token]))
        else:
            found = _one_row(session, keys, project, row, user=user, token=token, source=source)
            result = replace(found, row=number)
            if result.status != REJECTED:  # a corrected copy of a refused row may follow
                seen[token] = number
        results.append(result)
    report = Report(tuple(results))
    days = {result.taken_at.date() for result in report.accepted if result.taken_at}
    rollup.recount(session, user.site_id, days)
    audit.record(
        session,
        actor=user.username,
        action="backfill.import",
        source=source,
        detail={
            "site": site_code,
            "form": project.form,
            "version": project.spec.version,
            **report.summary(),
            "not_recorded": report.not_recorded(),
        },
    )
    return report
