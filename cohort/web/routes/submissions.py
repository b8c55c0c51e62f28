"""The confirmation a recording redirects to, found by its submission token: a double
click or a resubmit arrives here again, with the same answer and nothing saved twice."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cohort import idempotency
from cohort.errors import NotFound
from cohort.web.deps import DbSession, MidwifeOrDataManager
from cohort.web.pages import render
from cohort.web.participant_view import EVENT_TITLES, participant_view
from forms.i18n import N_

router = APIRouter(include_in_schema=False)

TITLES = {**EVENT_TITLES, "decline": N_("Decline recorded")}
UNKNOWN = "there is nothing you saved under this address: start again from the home page"


@router.get("/submissions/{token}")
def confirmation(
    request: Request, token: str, user: MidwifeOrDataManager, db: DbSession
) -> Response:
    submission = idempotency.find(db, token)
    if submission is None or submission.user_id != user.id:
        raise NotFound(UNKNOWN)
    study_id = submission.result.get("study_id")
    return render(
        request,
        "confirmation.html",
        heading=TITLES[submission.action],
        action=submission.action,
        participant=participant_view(request, db, user, study_id) if study_id else None,
    )
