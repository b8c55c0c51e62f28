"""Consents recorded before the platform existed (an EPR extract, a spreadsheet, a REDCap
export), in REDCap's flat record shape, taken row by row through ``cohort.capture``: the
same validation, vault, idempotency and audit as a midwife's form.

Each row gets a stable submission token (site, form version and the woman's NHS number
blind index, or the row's record id for a decline), so importing a file again, or a row
twice, records nothing new. The ``consent_date`` field (a REDCap date or date-time; empty:
now) says when she answered: the record is dated then, her age is checked (and banded) as
it was then, and the consent-rate roll-up counts again the closed days it joins. The
report gives each row's outcome with a reason that names fields and rules, never a value.

A row for a woman already in the cohort (named by her study ID as the record id, or by her
NHS number) records nothing by default: a file of consents taken before the platform must
not undo what has been recorded since. The REDCap API's import asks for REDCap's own
behaviour instead (``update``): her row's tick boxes become her new choices, recorded as
the consent update a midwife makes on her page (a new consent row, audited); a row giving
any other detail otherwise than her record has it is refused, not half taken. ``normal``
leaves a tick box whose cell is empty as it was; ``overwrite`` unticks it, as REDCap's
overwrite lets an empty cell erase a value.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlmodel import Session, select

from cohort import access, audit, capture, consent, idempotency, scope, study_id, vault
from cohort.consent import AlreadyEnrolled
from cohort.errors import CohortError, Conflict
from cohort.governance import rollup
from cohort.interop import redcap_dates, redcap_records
from cohort.interop.redcap_metadata import CONSENT_DATE, RECORD_ID, Project, complete_field
from cohort.keys import KeyRing
from cohort.models import Consent, Participant, User
from forms import validation
from forms.spec import FIXED_CHOICES

ACCEPTED = "accepted"
UPDATED = "updated"  # her tick boxes changed (the REDCap API's import only)
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
NOT_FIELD_NAMES = (
    "{count} column(s) are not field names: is the first line the header "
    "(record_id, then the variable names)?"
)
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")  # REDCap's; anything else may be data
NO_ROWS = "The file has no records to import"
NOT_A_TICK = "{column}: give 1 (ticked) or 0 (not ticked)"
SAME_AS = "the same woman as row {row}"
BAD_CONSENT_DATE = f"{CONSENT_DATE}: give the date as {redcap_dates.EXAMPLE}"
OTHER_SITE = "at another site"
IN_COHORT_AS = "study ID {study_id}"
NOT_HERS = "nhs_number: not the NHS number of the woman with this study ID"
DECLINE_IN_COHORT = "outcome: she is in the cohort; record her withdrawal on her page instead"
NOT_BY_IMPORT = "{column}: differs from her record; an import changes only her tick boxes"
# Read by the update itself: who she is, and this conversation (the update's own, dated at
# the import; the leaflet is not asked again).
FOR_THE_UPDATE = frozenset(
    {
        RECORD_ID,
        "nhs_number",
        "outcome",
        CONSENT_DATE,
        "discussion_language",
        "interpreter_used",
        "leaflet_given",
        "leaflet_language",
        *REDCAP_COLUMNS,
    }
)

Update = Literal["normal", "overwrite"]


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
    def recorded(self) -> list[RowResult]:
        """The rows that changed the cohort: new women and changed choices."""
        return [result for result in self.results if result.status in (ACCEPTED, UPDATED)]

    @property
    def rejected(self) -> list[RowResult]:
        return [result for result in self.results if result.status == REJECTED]

    def not_recorded(self) -> list[dict[str, object]]:
        """The rows not recorded, grouped by outcome and reason (for the audit trail)."""
        groups: dict[tuple[str, str], list[int]] = {}
        for result in self.results:
            if result.status not in (ACCEPTED, UPDATED):
                groups.setdefault((result.status, result.reason), []).append(result.row)
        return [
            {"status": status, "reason": reason, "rows": rows}
            for (status, reason), rows in groups.items()
        ]

    def summary(self) -> dict[str, int]:
        """Each outcome's count; "updated" only if a row was (only the API's import
        updates, so the command line's report never shows it)."""
        statuses = (ACCEPTED, UPDATED, ALREADY_IMPORTED, IN_COHORT, DUPLICATE, REJECTED)
        counts = {status: self.count(status) for status in statuses}
        return {status: n for status, n in counts.items() if n or status != UPDATED}


def check_columns(project: Project, columns: Sequence[str]) -> None:
    """Refuse the whole file if it names a column the project does not have."""
    known = {column for names in project.columns.values() for column in names}
    unknown = [c for c in columns if c not in known and c not in REDCAP_COLUMNS]
    if any(not FIELD_NAME.fullmatch(c) for c in unknown):
        # a header that is not one (a row of data, another file) is not echoed back
        count = sum(not FIELD_NAME.fullmatch(c) for c in unknown)
        raise CohortError(NOT_FIELD_NAMES.format(count=count), field="data")
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


def _named(session: Session, row: Mapping[str, str]) -> Participant | None:
    """The woman the row's record id names, if it is a study ID (an old system's record
    ids are not: those rows are new to the cohort)."""
    record_id = str(row.get(RECORD_ID, "")).strip().upper()
    if not study_id.is_valid_study_id(record_id):
        return None
    return session.exec(select(Participant).where(Participant.study_id == record_id)).first()


def _ticks(project: Project, row: Mapping[str, str], now: set[str], update: Update) -> set[str]:
    """Her choices after the row: a cell given as 1 or 0 sets its tick box, an absent
    column keeps it, an empty cell keeps it (``normal``) or unticks it (``overwrite``)."""
    field = project.spec.field(capture.ITEMS_FIELD)
    ticked = set(now)
    for code, column in zip(field.codes, project.columns[field.name], strict=True):
        mark = row.get(column)
        if mark is None or (not mark.strip() and update == "normal"):
            continue
        if mark.strip() not in TICKED:
            raise CohortError(NOT_A_TICK.format(column=column), field=column)
        (ticked.add if TICKED[mark.strip()] else ticked.discard)(code)
    return ticked


def _differing(
    session: Session,
    keys: KeyRing,
    project: Project,
    row: Mapping[str, str],
    member: Participant,
    latest: Consent,
    update: Update,
) -> str | None:
    """The first column the row gives otherwise than her record has it, leaving out her
    tick boxes and what the update reads itself: an import must not be taken as having
    changed her details when it has not. An empty cell differs only under ``overwrite``."""
    skipped = {*FOR_THE_UPDATE, *project.columns[capture.ITEMS_FIELD], complete_field(project.form)}
    given = {column: cell.strip() for column, cell in row.items() if column not in skipped}
    if update == "normal":
        given = {column: cell for column, cell in given.items() if cell}
    if not given:
        return None
    record = redcap_records.Record(member, latest)
    record.answers = redcap_records.read_answers(record)
    wanted = frozenset(given) & set(vault.FIELDS)
    redcap_records.add_identifiers(session, keys, [record], wanted)
    now = redcap_records.flat(project, record.answers, given)
    return next(
        (
            column
            for column, cell in given.items()
            if now.get(column, "") != _clean(project, column, cell)
        ),
        None,
    )


def _clean(project: Project, column: str, cell: str) -> str:
    """The cell as the form would store it (a postcode spaced and upper case), so only a
    real difference counts; a cell the form would refuse is a difference."""
    rule = project.spec.field(column).validation if column in project.columns else ""
    if not rule or not cell:
        return cell
    try:
        return validation.check(rule, cell)
    except validation.Invalid:
        return cell


def _change(
    session: Session,
    keys: KeyRing,
    project: Project,
    row: Mapping[str, str],
    member: Participant,
    *,
    user: User,
    update: Update,
    source: str,
) -> RowResult:
    """Make her row's tick boxes her choices, as a midwife's update on her page would."""
    named = IN_COHORT_AS.format(study_id=member.study_id)
    if str(row.get("outcome", "")).strip() not in ("", capture.CONSENTED):
        return RowResult(0, REJECTED, DECLINE_IN_COHORT)
    nhs_number = str(row.get("nhs_number", "")).strip()
    if nhs_number:
        try:
            found = vault.find_participant(session, keys, nhs_number)
        except CohortError as exc:
            return RowResult(0, REJECTED, f"nhs_number: {exc.message}")
        if found != member:
            return RowResult(0, REJECTED, NOT_HERS)
    latest = scope.latest_consent(session, member.id)
    if (column := _differing(session, keys, project, row, member, latest, update)) is not None:
        return RowResult(0, REJECTED, NOT_BY_IMPORT.format(column=column))
    now = {item for item, given in latest.items.items() if given}
    ticks = _ticks(project, row, now, update)
    if ticks == now:
        return RowResult(0, IN_COHORT, named, member.study_id)
    answers = {
        capture.ITEMS_FIELD: sorted(ticks),
        "discussion_language": row.get("discussion_language") or latest.language,
        "interpreter_used": row.get("interpreter_used", ""),
    }
    change = f"{member.study_id}|{latest.id}|{','.join(sorted(ticks))}"
    token = TOKEN_PREFIX + "update-" + hashlib.sha256(change.encode()).hexdigest()[:40]
    done = capture.update_answers(
        session, project.spec, member.study_id, answers, user=user, token=token, source=source
    )
    return RowResult(0, ALREADY_IMPORTED if done.replayed else UPDATED, named, member.study_id)


def _take(
    session: Session,
    keys: KeyRing,
    project: Project,
    row: Mapping[str, str],
    *,
    user: User,
    token: str,
    source: str,
    update: Update | None,
) -> RowResult:
    """The row's outcome: a new woman recorded, hers changed (``update``) or reported; a
    refusal of any step is the row's reason, never an error of the whole import."""
    try:
        member = _named(session, row) if update else None
        if member is None:
            try:
                answers, when = answers_from_row(project, row), taken_at(row)
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
            except AlreadyEnrolled as exc:
                member = _named(session, {RECORD_ID: exc.study_id})
            else:
                status = ALREADY_IMPORTED if done.replayed else ACCEPTED
                return RowResult(0, status, study_id=done.result.get("study_id"), taken_at=when)
        if not access.can_reach(user, member):
            return RowResult(0, IN_COHORT, OTHER_SITE)
        if update is None:
            named = IN_COHORT_AS.format(study_id=member.study_id)
            return RowResult(0, IN_COHORT, named, member.study_id)
        return _change(session, keys, project, row, member, user=user, update=update, source=source)
    except capture.InvalidAnswers as exc:
        return RowResult(0, REJECTED, _reason(exc))
    except Conflict as exc:
        if exc.field == idempotency.FIELD:  # imported before, by someone else
            return RowResult(0, ALREADY_IMPORTED)
        return RowResult(0, REJECTED, exc.message)
    except CohortError as exc:
        return RowResult(0, REJECTED, exc.message)


def import_rows(
    session: Session,
    keys: KeyRing,
    project: Project,
    rows: Sequence[Mapping[str, str]],
    *,
    user: User,
    site_code: str,
    source: str,
    update: Update | None = None,
) -> Report:
    """Take each row through the consent capture path (and, with ``update``, a woman
    already in the cohort through the consent update path). Those paths audit each row
    recorded; one event audits the import, with every row not recorded and why.
    Back-dated records are recounted into the roll-up's closed days in the same
    transaction."""
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
            found = _take(
                session, keys, project, row, user=user, token=token, source=source, update=update
            )
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
