"""Recording a withdrawal: the page that explains the three levels in plain words, and
``POST /api/v1/participants/{study_id}/withdrawals``. Midwives (their own site's
participants) and data managers (anyone's)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from cohort import access, i18n, idempotency
from cohort.errors import CohortError
from cohort.models import User
from cohort.scope import withdrawal_level
from cohort.web import ui_language
from cohort.web.deps import DbSession, InstanceDep, MidwifeOrDataManager, Source
from cohort.web.idempotency_key import IdempotencyKey, mark_replay
from cohort.web.instrument_form import error_list
from cohort.web.pages import render
from cohort.web.participant_json import ParticipantOut, participant_out
from cohort.withdrawal import further_levels, record_withdrawal
from cohort.withdrawal_levels import LEVELS
from linkage_jobs.withdrawals import purge_if_withdrawn

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["participants"])


class WithdrawalIn(BaseModel):
    level: str = Field(
        description="no_contact: no further contact; no_data: no further data, what is "
        "already linked is kept; full: no further data and linked data removed",
        examples=[level.code for level in LEVELS],
    )


def _page(
    request: Request,
    db: Session,
    user: User,
    study_id: str,
    token: str,
    *,
    chosen: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    participant = access.participant_for(db, user, study_id)
    gettext = i18n.gettext(ui_language.current(request))
    levels = further_levels(withdrawal_level(db, participant.id))
    errors = errors or {}
    return render(
        request,
        "withdrawal.html",
        status_code=status_code,
        study_id=participant.study_id,
        levels=[
            {
                "value": level.code,
                "text": gettext(level.title),
                "hint": {"text": gettext(level.explanation)},
            }
            for level in levels
        ],
        chosen=chosen,
        submission_token=token,
        errors=errors,
        error_list=error_list(errors),
    )


@router.get("/participants/{study_id}/withdrawal")
def withdrawal_page(
    request: Request, study_id: str, user: MidwifeOrDataManager, db: DbSession
) -> Response:
    return _page(request, db, user, study_id, idempotency.new_token())


@router.post("/participants/{study_id}/withdrawal")
def withdraw(
    request: Request,
    study_id: str,
    user: MidwifeOrDataManager,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    level: Annotated[str, Form()] = "",
    submission_token: Annotated[str, Form()] = "",
) -> Response:
    try:
        record_withdrawal(
            db,
            study_id=study_id,
            level_code=level,
            user=user,
            token=submission_token,
            source=source,
        )
        purge_if_withdrawn(db, instance.settings.research_store_path, study_id, actor=user.username)
    except CohortError as exc:
        if exc.field != "level":
            raise
        errors = {"level": i18n.gettext(ui_language.current(request))(exc.message)}
        return _page(
            request,
            db,
            user,
            study_id,
            submission_token,
            chosen=level,
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/submissions/{submission_token}", status_code=303)


@api.post("/participants/{study_id}/withdrawals", status_code=201)
def create_withdrawal(
    study_id: str,
    body: WithdrawalIn,
    response: Response,
    user: MidwifeOrDataManager,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    key: IdempotencyKey,
) -> ParticipantOut:
    """Withdraw her at a level; it takes effect at once. A level no further than one
    already recorded is refused with 409."""
    done = record_withdrawal(
        db, study_id=study_id, level_code=body.level, user=user, token=key, source=source
    )
    purge_if_withdrawn(db, instance.settings.research_store_path, study_id, actor=user.username)
    mark_replay(response, done)
    return participant_out(db, user, study_id)
