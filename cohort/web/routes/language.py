"""Switching the UI language: the switcher on every page posts here and comes back."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from cohort.web import ui_language
from cohort.web.deps import CurrentUser
from cohort.web.routes.login import safe_next

router = APIRouter(include_in_schema=False)


@router.post("/language")
def switch_language(
    request: Request,
    user: CurrentUser,
    ui_language_code: Annotated[str, Form(alias="ui_language")] = "",
    next_page: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    response = RedirectResponse(safe_next(next_page), status_code=303)
    ui_language.remember(response, request, ui_language_code)
    return response
