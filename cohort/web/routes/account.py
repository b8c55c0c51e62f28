"""Your own account: password and API tokens (every role), and ``GET /api/v1/me``.

Changing either bumps your session version, which signs out your other sessions; this
one is re-issued with the new version so you stay signed in here. Roles that may use the
REDCap API can take a token in REDCap's form (32 upper-case hex characters), which PyCap
and REDCapR insist on; it is kept and revoked like any other."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from cohort.auth import tokens, users
from cohort.errors import CohortError, Forbidden
from cohort.i18n import Message
from cohort.interop.roles import REDCAP_ROLES
from cohort.models import User
from cohort.web import sessions
from cohort.web.deps import CurrentUser, DbSession
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["account"])

TITLE = N_("Your account and API tokens")
PASSWORD_CHANGED = N_("Password changed. Other sessions are signed out.")
TOKEN_REVOKED = N_("Token %(number)s revoked.")
REDCAP_NOT_ALLOWED = N_("Your role cannot use the REDCap API: issue an ordinary token instead")


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    site: str | None
    projects: list[str]


def _page(request: Request, db: DbSession, user: User, *, status_code: int = 200, **context):
    response = render(
        request,
        "account.html",
        status_code=status_code,
        me=users.summarise(db, [user])[0],
        tokens=tokens.list_tokens(db, user),
        redcap_allowed=user.role in REDCAP_ROLES,
        redcap_address=request.url_for("redcap_api_call"),
        **context,
    )
    sessions.renew(response, request, user)
    return response


@router.get("/account", summary=TITLE)
def account(request: Request, user: CurrentUser, db: DbSession) -> Response:
    return _page(request, db, user)


@router.post("/account/password")
def change_password(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    try:
        users.change_own_password(db, user, current_password, new_password)
    except CohortError as exc:
        return _page(request, db, user, status_code=exc.status_code, error=exc)
    return _page(request, db, user, done=Message(PASSWORD_CHANGED))


@router.post("/account/tokens")
def issue_token(
    request: Request,
    user: CurrentUser,
    db: DbSession,
    label: Annotated[str, Form()] = "",
    redcap: Annotated[str, Form()] = "",
) -> Response:
    """``redcap`` ticked: in REDCap's form, for roles allowed the REDCap API."""
    in_redcap_form = bool(redcap)
    try:
        if in_redcap_form and user.role not in REDCAP_ROLES:
            raise Forbidden(REDCAP_NOT_ALLOWED, field="redcap")
        token = tokens.issue_token(db, user, label, actor=user.username, redcap=in_redcap_form)
    except CohortError as exc:
        return _page(request, db, user, status_code=exc.status_code, error=exc)
    return _page(request, db, user, new_token=token, new_token_redcap=in_redcap_form)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, user: CurrentUser, db: DbSession, token_id: int) -> Response:
    try:
        tokens.revoke_token(db, user, token_id, actor=user.username)
    except CohortError as exc:
        return _page(request, db, user, status_code=exc.status_code, error=exc)
    return _page(request, db, user, done=Message(TOKEN_REVOKED, {"number": token_id}))


@api.get("/me")
def me(user: CurrentUser, db: DbSession) -> Me:
    """The caller: who she is, her role and its scope (site or projects)."""
    return Me.model_validate(users.summarise(db, [user])[0], from_attributes=True)
