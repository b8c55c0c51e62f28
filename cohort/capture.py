"""From a submitted consent instrument to a record: the one path web pages, the API and
the demo seed share.

The answers are screened (only the form's fields, one answer each, no control
characters, no essays), validated by ``forms.builder.validate`` against the instrument
version in use (branching decides what is shown, and a hidden field is neither required
nor stored), and split: the fields marked ``Identifier? = y`` go to the vault only. A
consent enrols her, a decline keeps no identifiers. Each recording happens once per
submission token. Refusals are field by field, in the caller's language, and nothing is
written.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from functools import lru_cache

from sqlmodel import Session

from cohort import access, consent, consent_update, idempotency, imd, vault
from cohort.control_characters import CONTROL
from cohort.csv_cells import is_formula
from cohort.errors import CohortError, Forbidden
from cohort.keys import KeyRing
from cohort.models import User
from forms.builder import split_identifiers, validate
from forms.i18n import N_, Gettext, identity
from forms.spec import FieldSpec, FormSpec
from forms.validation import Invalid

FORM = "babi_consent"
RECORDED_BY = ("midwife",)  # at her own site: the record takes her site
CONSENTED, DECLINED = "1", "0"
ACTIONS = {CONSENTED: "consent", DECLINED: "decline"}
ITEMS_FIELD = "consent_items"
# The fields an update of scope asks again: the conversation and the tick boxes.
UPDATE_FIELDS = ("discussion_language", "interpreter_used", ITEMS_FIELD)
# The answers a consent or decline row has a column for; any other is kept in ``answers``.
RECORDED_IN_COLUMNS = frozenset(
    {*UPDATE_FIELDS, "leaflet_given", "leaflet_language", "outcome", "ethnicity", "age_band"}
)
MAX_TEXT = 200
FREE_TEXT = ("text", "notes")  # the answers no validation rule normalises

NOT_A_FIELD = N_("This is not a question of the form")
ONE_ANSWER = N_("Give one answer")
NOT_TEXT = N_("Give the answer as text, or a list of texts for tick boxes")
TOO_LONG = N_("Enter at most %(max)s characters")
CONTROL_CHARACTER = N_("Remove the invisible control character from the answer")
FORMULA = N_(
    "Do not start the answer with =, +, - or @: exported, it could run as a spreadsheet formula"
)
WRONG_OUTCOME = N_("This records a different outcome: send it to the other address")
AGE_RANGE = N_("Check her date of birth: women aged 16 to 50 can join the cohort")

Answers = Mapping[str, object]


class InvalidAnswers(CohortError):
    """Answers refused: ``errors`` maps each field to its (translated) message; the
    message and field are the first of them, in form order."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = errors


def _screen_one(value: object, field: FieldSpec) -> Invalid | None:
    values = value if isinstance(value, list | tuple | frozenset | set) else [value]
    if field.type != "checkbox" and len(values) > 1:
        return Invalid(ONE_ANSWER)
    for item in values:
        if not isinstance(item, str):
            return Invalid(NOT_TEXT)
        if len(item) > MAX_TEXT:
            return Invalid(TOO_LONG, max=str(MAX_TEXT))
        if CONTROL & set(item):
            return Invalid(CONTROL_CHARACTER)
        if field.type in FREE_TEXT and not field.validation and is_formula(item):
            return Invalid(FORMULA)  # a validated answer is normalised: "+44…" to 0…
    return None


def screen(spec: FormSpec, answers: Answers, gettext: Gettext = identity) -> dict[str, str]:
    """Problems no instrument rule covers, field by field: a name that is not a question
    of the form, several answers to a one-answer question, an answer that is not text, a
    huge or binary one, one a spreadsheet would run as a formula when it is exported (the
    backfill import refuses the same)."""
    fields = {field.name: field for field in spec.answer_fields}
    errors = {}
    for name, value in answers.items():
        field = fields.get(name)
        problem = Invalid(NOT_A_FIELD) if field is None else _screen_one(value, field)
        if problem is not None:
            errors[str(name)[:MAX_TEXT]] = problem.translated(gettext)
    return errors


def clean_answers(spec: FormSpec, answers: Answers, gettext: Gettext = identity) -> dict:
    """The answers of the shown fields, cleaned, or ``InvalidAnswers``."""
    refused = screen(spec, answers, gettext)
    passed = {name: value for name, value in answers.items() if name not in refused}
    clean, errors = validate(spec, passed, gettext)
    errors = {**errors, **refused}
    if errors:
        order = [field.name for field in spec.fields]
        ranked = sorted(errors, key=lambda name: order.index(name) if name in order else -1)
        raise InvalidAnswers({name: errors[name] for name in ranked})
    return clean


def _yes_no(answer: object) -> bool | None:
    return {"1": True, "0": False}.get(str(answer)) if answer else None


def conversation(spec: FormSpec, clean: Mapping[str, object]) -> consent.Conversation:
    return consent.Conversation(
        form_name=spec.name,
        form_version=spec.version,
        language=str(clean["discussion_language"]),
        interpreter_used=_yes_no(clean.get("interpreter_used")),
        leaflet_given=_yes_no(clean.get("leaflet_given")),
        leaflet_language=str(clean.get("leaflet_language") or "") or None,
    )


def _items(clean: Mapping[str, object]) -> dict[str, bool]:
    return dict.fromkeys(sorted(clean.get(ITEMS_FIELD, ())), True)


def _ethnicity(rest: Mapping[str, object]) -> str | None:
    return str(rest.get("ethnicity") or "") or None


def other_answers(rest: Mapping[str, object]) -> dict[str, object]:
    """The answers no column holds (questions a newer version of the instrument added),
    JSON-ready: a tick-box answer as its sorted codes."""
    return {
        name: sorted(value) if isinstance(value, list | tuple | frozenset | set) else value
        for name, value in rest.items()
        if name not in RECORDED_IN_COLUMNS
    }


def _identity(
    values: Mapping[str, object], today: date, gettext: Gettext
) -> tuple[vault.IdentityFields, str]:
    """Who she is, for the vault, and her age band, for the consent rate."""
    born = date.fromisoformat(str(values["date_of_birth"]))
    try:
        band = consent.age_band(born, today)
    except CohortError:
        raise InvalidAnswers({"date_of_birth": gettext(AGE_RANGE)}) from None
    fields = vault.IdentityFields(
        nhs_number=str(values["nhs_number"]),
        given_name=str(values["given_name"]),
        family_name=str(values["family_name"]),
        date_of_birth=born,
        postcode=str(values["postcode"]),
        address=str(values.get("address") or "") or None,
    )
    return fields, band


def record_answers(
    session: Session,
    keys: KeyRing,
    spec: FormSpec,
    answers: Answers,
    *,
    user: User,
    token: str,
    gettext: Gettext = identity,
    outcome: str | None = None,
    source: str | None = None,
    today: date | None = None,
    taken_at: datetime | None = None,
) -> idempotency.Done:
    """Record the consent or the decline the answers describe, once per ``token``.

    ``outcome`` (CONSENTED or DECLINED) pins what the caller means to record; answers
    saying otherwise are refused. A consent's result names the study ID. ``taken_at``:
    when she answered, for an answer given before the platform existed (the backfill);
    the record keeps it and her age is reckoned on its day (else on ``today``)."""
    if user.role not in RECORDED_BY:
        raise Forbidden(f"a {user.role.replace('_', ' ')} cannot record consents")
    idempotency.check_token(token)
    if outcome is not None:
        answers = {"outcome": outcome, **answers}
        if str(answers["outcome"]) != outcome:
            raise InvalidAnswers({"outcome": gettext(WRONG_OUTCOME)})
    clean = clean_answers(spec, answers, gettext)
    identity_values, rest = split_identifiers(spec, clean)
    talk = conversation(spec, rest)
    site_id = user.site_id
    if rest["outcome"] == CONSENTED:
        on = taken_at.date() if taken_at else today or date.today()
        who, band = _identity(identity_values, on, gettext)
        profile = consent.Profile(band, _ethnicity(rest), imd.decile_of(session, who.postcode))

        def record() -> dict[str, object]:
            participant, row = consent.record_consent(
                session,
                keys,
                site_id=site_id,
                midwife=user,
                identity=who,
                items=_items(rest),
                conversation=talk,
                profile=profile,
                answers=other_answers(rest),
                source=source,
                taken_at=taken_at,
            )
            return {"study_id": participant.study_id, "consent_id": row.id}

    else:

        def record() -> dict[str, object]:
            decline = consent.record_decline(
                session,
                site_id=site_id,
                midwife=user,
                conversation=talk,
                profile=consent.Profile(str(rest["age_band"]), _ethnicity(rest)),
                answers=other_answers(rest),
                source=source,
                taken_at=taken_at,
            )
            return {"decline_id": decline.id}

    action = ACTIONS[str(rest["outcome"])]
    return idempotency.once(session, token, user=user, action=action, record=record)


@lru_cache(maxsize=32)
def update_spec(spec: FormSpec) -> FormSpec:
    """The part of the instrument an update asks again, its tick boxes always shown."""
    fields = tuple(
        replace(field, branching=None) if field.name == ITEMS_FIELD else field
        for field in spec.fields
        if field.name in UPDATE_FIELDS
    )
    return replace(spec, fields=fields)


def update_answers(
    session: Session,
    spec: FormSpec,
    study_id: str,
    answers: Answers,
    *,
    user: User,
    token: str,
    gettext: Gettext = identity,
    source: str | None = None,
) -> idempotency.Done:
    """Change her consent to the tick boxes answered (with the discussion's language),
    once per ``token``."""
    idempotency.check_token(token)
    participant = access.participant_for(session, user, study_id)
    partial = update_spec(spec)
    clean = clean_answers(partial, answers, gettext)

    def record() -> dict[str, object]:
        row = consent_update.update_consent(
            session,
            participant=participant,
            user=user,
            items=_items(clean),
            conversation=conversation(partial, clean),
            source=source,
        )
        return {"study_id": participant.study_id, "consent_id": row.id}

    return idempotency.once(session, token, user=user, action=consent_update.ACTION, record=record)
