"""Recording a consent or a decline: the midwife's one-page form and
``POST /api/v1/consents`` / ``POST /api/v1/declines``.

The page carries a one-time submission token (also in its address) and the instrument
version it shows; Save goes through ``cohort.capture`` and on to the confirmation (post,
redirect, get), so a double click, a resubmit or going back lands on the same
confirmation. "Show statements in this language" posts the form back unsaved with the
woman's statements added: it works without JavaScript and keeps an NHS number out of
every address.
"""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlmodel import Session

from cohort import capture, i18n, idempotency
from cohort.consent import AlreadyEnrolled
from cohort.errors import Conflict
from cohort.instance import Instance
from cohort.models import User
from cohort.sites import get_site_by_id
from cohort.web import instrument_form, ui_language
from cohort.web.confirmation import confirmation_page
from cohort.web.deps import DbSession, InstanceDep, MidwifeAtSite, PostedForm, Source
from cohort.web.idempotency_key import IdempotencyKey, mark_replay
from cohort.web.pages import render
from cohort.web.participant_json import InstrumentAnswers, ParticipantOut, participant_out
from cohort.web.participant_view import participant_page
from forms import registry
from forms.i18n import N_
from forms.spec import FormSpec

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["consents"])

TITLE = N_("Record consent")
INTRO = N_(
    "Ask her in her language. Answers to questions that do not apply to her are ignored "
    "when you save."
)
ELSEWHERE_TITLE = N_("She is already in the cohort")
ELSEWHERE = N_(
    "This NHS number belongs to a participant of %(site)s. Nothing new was saved. Ask the "
    "data manager to update her consent or record a withdrawal."
)
ENROLLED_HERE = (
    "a participant with this NHS number is already in the cohort as {study_id}: update her "
    "consent (PATCH /api/v1/participants/{study_id}/consent) or record a withdrawal"
)
ENROLLED_ELSEWHERE = (
    "a participant with this NHS number is already in the cohort at another site: ask the "
    "data manager"
)


class DeclineOut(BaseModel):
    decline_id: int
    site: str


def _spec(db: Session, version: str) -> FormSpec:
    """The version the page showed (a record keeps its meaning), else the current one."""
    if version:
        return registry.get(db, capture.FORM, version)
    return registry.current(db, capture.FORM)


def _form_page(
    request: Request,
    db: Session,
    spec: FormSpec,
    answers: instrument_form.Answers,
    token: str,
    **options: Any,
) -> Response:
    return instrument_form.render_form(
        request,
        db,
        spec,
        answers,
        token,
        title=TITLE,
        intro=INTRO,
        action="/consents/new",
        **options,
    )


@router.get("/consents/new", summary=TITLE)
def new_consent(
    request: Request,
    user: MidwifeAtSite,
    db: DbSession,
    language: str = "",
    submission: str = "",
) -> Response:
    """The form, its submission token in the address: going back to it after saving shows
    what was saved rather than a form to save again. ``?language=`` picks her language."""
    if not idempotency.TOKEN.fullmatch(submission):
        ahead = {"language": language} if language else {}
        query = urlencode({"submission": idempotency.new_token(), **ahead})
        return RedirectResponse(f"/consents/new?{query}", status_code=303)
    if idempotency.find(db, submission) is not None:
        return confirmation_page(request, db, user, submission)
    answers = {"discussion_language": language} if language in i18n.LANGUAGES else {}
    return _form_page(request, db, registry.current(db, capture.FORM), answers, submission)


def _already_enrolled(
    request: Request, db: Session, user: MidwifeAtSite, exc: AlreadyEnrolled
) -> Response:
    if exc.site_id == user.site_id:
        return participant_page(
            request, db, user, exc.study_id, already_enrolled=True, status_code=409
        )
    gettext = i18n.gettext(ui_language.current(request))
    return render(
        request,
        "error.html",
        status_code=409,
        title=gettext(ELSEWHERE_TITLE),
        message=gettext(ELSEWHERE) % {"site": get_site_by_id(db, exc.site_id).name},
    )


@router.post("/consents/new")
def save_consent(
    request: Request,
    user: MidwifeAtSite,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    form: PostedForm,
) -> Response:
    spec = _spec(db, str(form.get("form_version", "")))
    answers = instrument_form.posted_answers(spec, form)
    token = str(form.get(idempotency.FIELD, ""))
    if form.get("action") == instrument_form.SHOW_STATEMENTS:
        return _form_page(request, db, spec, answers, token)
    try:
        capture.record_answers(
            db,
            instance.keys,
            spec,
            answers,
            user=user,
            token=token,
            gettext=i18n.gettext(ui_language.current(request)),
            source=source,
        )
    except capture.InvalidAnswers as exc:
        return _form_page(request, db, spec, answers, token, errors=exc.errors, status_code=400)
    except AlreadyEnrolled as exc:
        return _already_enrolled(request, db, user, exc)
    return RedirectResponse(f"/submissions/{token}", status_code=303)


def _record(
    db: Session,
    instance: Instance,
    user: User,
    body: InstrumentAnswers,
    key: str,
    source: str | None,
    outcome: str,
) -> idempotency.Done:
    try:
        return capture.record_answers(
            db,
            instance.keys,
            registry.current(db, capture.FORM),
            body.root,
            user=user,
            token=key,
            outcome=outcome,
            source=source,
        )
    except AlreadyEnrolled as exc:
        here = exc.site_id == user.site_id
        message = ENROLLED_HERE.format(study_id=exc.study_id) if here else ENROLLED_ELSEWHERE
        raise Conflict(message, field="nhs_number") from None


@api.post("/consents", status_code=201)
def create_consent(
    body: InstrumentAnswers,
    response: Response,
    user: MidwifeAtSite,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    key: IdempotencyKey,
) -> ParticipantOut:
    """Record a consent from the instrument's answers (``outcome`` may be left out). Her
    identifiers go to the vault only; the answer names her study ID. An NHS number
    already in the cohort is refused with 409."""
    done = _record(db, instance, user, body, key, source, capture.CONSENTED)
    mark_replay(response, done)
    return participant_out(db, user, str(done.result["study_id"]))


@api.post("/declines", status_code=201)
def create_decline(
    body: InstrumentAnswers,
    response: Response,
    user: MidwifeAtSite,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    key: IdempotencyKey,
) -> DeclineOut:
    """Record a decline: only her age band and, if she is happy to say, her ethnicity
    are kept, with the site, the language and the instrument version."""
    done = _record(db, instance, user, body, key, source, capture.DECLINED)
    mark_replay(response, done)
    return DeclineOut(
        decline_id=int(done.result["decline_id"]), site=get_site_by_id(db, user.site_id).code
    )
