"""A participant's consent: her page (study ID, scope, history, actions), the update form a
midwife fills in with her, and ``GET /api/v1/participants/{study_id}`` and
``PATCH /api/v1/participants/{study_id}/consent``. A midwife reaches only her own site's
participants; anyone else's study ID is answered with 404."""

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from cohort import access, capture, i18n, idempotency
from cohort.errors import Conflict
from cohort.scope import latest_consent
from cohort.web import instrument_form, ui_language
from cohort.web.deps import DbSession, MidwifeAtSite, MidwifeOrDataManager, PostedForm, Source
from cohort.web.idempotency_key import IdempotencyKey, mark_replay
from cohort.web.participant_json import ParticipantOut, participant_out
from cohort.web.participant_view import participant_page
from forms import registry
from forms.i18n import N_
from forms.spec import FormSpec

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["participants"])

TITLE = N_("Update consent")
INTRO = N_(
    "Go through the statements with her again and tick each one she agrees to now. Her "
    "earlier answers stay in her history."
)


class ConsentUpdate(BaseModel):
    """Her choices now, as the instrument's tick boxes, and how the discussion was held."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"discussion_language": "ur", "consent_items": ["link_mother_health"]}]
        },
    )
    discussion_language: str = Field(description="the language code the discussion was in")
    interpreter_used: str | None = Field(None, description='"1" yes, "0" no')
    consent_items: list[str] = Field(description="the consent items she agrees to now")


@router.get("/participants/{study_id}")
def participant(
    request: Request, study_id: str, user: MidwifeOrDataManager, db: DbSession
) -> Response:
    return participant_page(request, db, user, study_id)


def _form_page(
    request: Request,
    db: Session,
    spec: FormSpec,
    study_id: str,
    answers: instrument_form.Answers,
    token: str,
    **options: Any,
) -> Response:
    return instrument_form.render_form(
        request,
        db,
        capture.update_spec(spec),
        answers,
        token,
        title=TITLE,
        intro=INTRO,
        action=f"/participants/{study_id}/consent",
        **options,
    )


def _current_answers(db: Session, user: MidwifeAtSite, study_id: str) -> instrument_form.Answers:
    """Her latest choices and language, as the form's answers, to start from."""
    latest = latest_consent(db, access.participant_for(db, user, study_id).id)
    if latest is None:
        return {}
    ticked = [item for item, on in latest.items.items() if on]
    return {"discussion_language": latest.language, capture.ITEMS_FIELD: ticked}


@router.get("/participants/{study_id}/consent")
def update_page(request: Request, study_id: str, user: MidwifeAtSite, db: DbSession) -> Response:
    spec = registry.current(db, capture.FORM)
    answers = _current_answers(db, user, study_id)
    return _form_page(request, db, spec, study_id, answers, idempotency.new_token())


@router.post("/participants/{study_id}/consent")
def update(
    request: Request,
    study_id: str,
    user: MidwifeAtSite,
    db: DbSession,
    source: Source,
    form: PostedForm,
) -> Response:
    spec = registry.current(db, capture.FORM)
    answers = instrument_form.posted_answers(capture.update_spec(spec), form)
    token = str(form.get(idempotency.FIELD, ""))
    if form.get("action") == instrument_form.SHOW_STATEMENTS:
        return _form_page(request, db, spec, study_id, answers, token)
    gettext = i18n.gettext(ui_language.current(request))
    try:
        capture.update_answers(
            db, spec, study_id, answers, user=user, token=token, gettext=gettext, source=source
        )
    except capture.InvalidAnswers as exc:
        return _form_page(
            request, db, spec, study_id, answers, token, errors=exc.errors, status_code=400
        )
    except Conflict as exc:  # unchanged, or withdrawn from everything
        errors = {exc.field or capture.ITEMS_FIELD: gettext(exc.message)}
        return _form_page(
            request, db, spec, study_id, answers, token, errors=errors, status_code=409
        )
    return RedirectResponse(f"/submissions/{token}", status_code=303)


@api.get("/participants/{study_id}")
def get_participant(study_id: str, user: MidwifeOrDataManager, db: DbSession) -> ParticipantOut:
    """Her consent now (withdrawals applied) and its history; no identifier. A midwife
    sees only her own site's participants."""
    return participant_out(db, user, study_id)


@api.patch("/participants/{study_id}/consent")
def patch_consent(
    study_id: str,
    body: ConsentUpdate,
    response: Response,
    user: MidwifeAtSite,
    db: DbSession,
    source: Source,
    key: IdempotencyKey,
) -> ParticipantOut:
    """Change which items she consents to: a new consent record, her history kept."""
    done = capture.update_answers(
        db,
        registry.current(db, capture.FORM),
        study_id,
        body.model_dump(exclude_none=True),
        user=user,
        token=key,
        source=source,
    )
    mark_replay(response, done)
    return participant_out(db, user, study_id)
