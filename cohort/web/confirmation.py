"""The confirmation of a recording, found by its submission token: what a save redirects
to, and what the consent form shows instead of itself once its token has been used, so a
double click, a resubmit or going back never saves twice."""

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from cohort import idempotency
from cohort.errors import NotFound
from cohort.models import User
from cohort.web.pages import render
from cohort.web.participant_view import EVENT_TITLES, participant_view
from forms.i18n import N_

TITLES = {**EVENT_TITLES, "decline": N_("Decline recorded")}
UNKNOWN = "there is nothing you saved under this address: start again from the home page"


def confirmation_page(request: Request, db: Session, user: User, token: str) -> Response:
    """What ``token`` recorded, for the user who recorded it (anyone else: not found)."""
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
