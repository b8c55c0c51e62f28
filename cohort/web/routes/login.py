"""Signing in and out. The sign-in form is public; it still carries a CSRF token (from
the anonymous session). Signing in starts a new session id; signing out revokes it."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from cohort.auth import users
from cohort.errors import CohortError
from cohort.web import sessions
from cohort.web.deps import CurrentUser, DbSession, InstanceDep, Source
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)

EXPIRED = CohortError(N_("the sign-in form had expired: please sign in again"), field="username")


def safe_next(target: str) -> str:
    """Only a path on this site, so a crafted link cannot send a user elsewhere."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next_page: Annotated[str, Query(alias="next")] = "/") -> Response:
    return render(request, "login.html", next=safe_next(next_page))


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    target = safe_next(next_page)
    anonymous = sessions.read(request)
    if anonymous is None or not sessions.csrf_matches(request, anonymous, csrf_token):
        return render(
            request, "login.html", status_code=403, error=EXPIRED, username=username, next=target
        )
    try:
        user = users.authenticate(db, username, password, source, instance.settings)
    except users.LoginFailed as exc:
        return render(
            request,
            "login.html",
            status_code=exc.status_code,
            error=exc,
            username=username,
            next=target,
        )
    response = RedirectResponse(target, status_code=303)
    sessions.begin(db, request, response, user)
    return response


@router.post("/logout")
def logout(request: Request, user: CurrentUser, db: DbSession, source: Source) -> Response:
    users.record_logout(db, user, source)
    response = RedirectResponse("/login", status_code=303)
    sessions.end(db, request, response)
    return response
