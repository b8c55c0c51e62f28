"""Switching the UI language: the switcher on every page posts here and comes back.

Anyone may switch, signed in or not (a visitor chooses hers on the sign-in page): it only
sets a cookie. The form still proves it came from this service, as the sign-in form does,
with the CSRF token of the browser's session, anonymous or signed in."""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import Match

from cohort.errors import Forbidden
from cohort.web import sessions, ui_language
from cohort.web.deps import NOT_FROM_HERE
from cohort.web.routes.login import safe_next

router = APIRouter(include_in_schema=False)


def _page_at(request: Request, target: str) -> str:
    """``target`` if it is a page, else the home page: a page shown in answer to a form
    (a refused disabling, say) has an address that only a form posts to."""
    scope = {"type": "http", "method": "GET", "path": urlsplit(target).path, "root_path": ""}
    found = any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)
    return target if found else "/"


@router.post("/language")
def switch_language(
    request: Request,
    ui_language_code: Annotated[str, Form(alias="ui_language")] = "",
    next_page: Annotated[str, Form(alias="next")] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    browser_session = sessions.read(request)
    if browser_session is None or not sessions.csrf_matches(request, browser_session, csrf_token):
        raise Forbidden(NOT_FROM_HERE)
    response = RedirectResponse(_page_at(request, safe_next(next_page)), status_code=303)
    ui_language.remember(response, request, ui_language_code)
    return response
