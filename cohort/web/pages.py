"""Rendering pages: the Jinja environment with the NHS.UK macros, and what every page
needs (the signed-in user, her menu, the CSRF token, the CSP nonce).

The menu is read from the routes themselves: a page route with a ``summary`` is a task,
offered to exactly the roles its ``requires`` declaration lets through.
"""

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    pass_context,
)
from jinja2.runtime import Context
from starlette.templating import Jinja2Templates

from cohort import i18n
from cohort.errors import CohortError
from cohort.i18n import Gettext, Message
from cohort.models import ROLES, Site
from cohort.web import sessions, ui_language
from cohort.web.deps import app_routes, declared_roles
from forms.i18n import N_

TEMPLATES_DIR = Path(__file__).parent / "templates"
SERVICE_NAME = N_("Birth cohort")
STATIC_NHSUK = "/static/nhsuk"
ROLE_LABELS = {
    "midwife": N_("Midwife"),
    "data_manager": N_("Data manager"),
    "researcher": N_("Researcher"),
    "governance": N_("Governance lead"),
    "admin": N_("Administrator"),
}


@dataclass(frozen=True)
class Task:
    title: str
    path: str
    roles: frozenset[str]


def page_tasks(app: FastAPI) -> list[Task]:
    """Menu entries: page routes (GET, no path parameters, not in the API) with a summary."""
    tasks = []
    for route in app_routes(app):
        summary = getattr(route, "summary", None)
        page = not getattr(route, "include_in_schema", True)
        if page and summary and "GET" in (route.methods or ()) and "{" not in (route.path or "{"):
            roles = declared_roles(route)
            if roles:
                tasks.append(Task(summary, route.path, roles))
    return tasks


def sentence(text: str) -> str:
    """Service messages start in lower case so they read well after 'cohort:' on the CLI."""
    return text[:1].upper() + text[1:]


def error_text(error: CohortError) -> Message:
    """A refusal as a message to translate. One that carries its shape and values
    (``text``, or ``template`` and ``params``) is translated whole; any other is looked up
    as written, which finds a service message marked with ``N_`` where it is raised."""
    text = getattr(error, "text", None)
    if isinstance(text, Message):
        return text
    return Message(getattr(error, "template", error.message), getattr(error, "params", {}))


def error_message(error: CohortError, gettext: Gettext) -> str:
    return sentence(error_text(error).translated(gettext))


def _gettext(context: Context) -> Gettext:
    """The page's own gettext (its UI language's), else the environment's English one."""
    return context["_"]


@pass_context
def field_error(context: Context, error: CohortError | None, field: str) -> dict[str, str] | None:
    if error is not None and error.field == field:
        return {"text": error_message(error, _gettext(context))}
    return None


@pass_context
def error_summary_item(context: Context, error: CohortError) -> dict[str, str]:
    """The error summary's line for a refusal, linking to its field when it has one."""
    item = {"text": error_message(error, _gettext(context))}
    return {**item, "href": f"#{error.field}"} if error.field else item


@pass_context
def local_datetime(context: Context, value: datetime) -> str:
    """A date and time as the UI language writes them (month names, digits, order)."""
    return i18n.format_datetime(value, context.get("ui_language", i18n.DEFAULT))


@pass_context
def local_date(context: Context, value: date) -> str:
    """A date as the UI language writes it (a date of birth, with no time of day)."""
    return i18n.format_date(value, context.get("ui_language", i18n.DEFAULT))


@pass_context
def role_label(context: Context, role: str) -> str:
    return _gettext(context)(ROLE_LABELS[role]) if role in ROLE_LABELS else role


@pass_context
def role_items(context: Context) -> list[dict[str, str]]:
    return [{"value": role, "text": role_label(context, role)} for role in ROLES]


def site_items(sites: list[Site]) -> list[dict[str, str]]:
    return [{"value": site.code, "text": f"{site.name} ({site.code})"} for site in sites]


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(TEMPLATES_DIR), PackageLoader("nhsuk_frontend_jinja")]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
        auto_reload=False,  # shipped templates never change under a running server
    )
    env.filters["sentence"] = sentence
    env.filters["local_datetime"] = local_datetime
    env.filters["local_date"] = local_date
    env.globals.update(
        _=i18n.gettext(i18n.DEFAULT),  # render() gives each page the UI language's own
        field_error=field_error,
        error_summary_item=error_summary_item,
        role_label=role_label,
        role_items=role_items,
        site_items=site_items,
        static_nhsuk=STATIC_NHSUK,
        assetPath=f"{STATIC_NHSUK}/nhsuk/assets",
    )
    return Jinja2Templates(env=env)


def render(request: Request, template: str, *, status_code: int = 200, **context: Any):
    """Render a page; a visitor without a session gets one, so every form has a token."""
    browser_session = getattr(request.state, "browser_session", None) or sessions.read(request)
    fresh = browser_session is None
    if fresh:
        browser_session = sessions.new_session()
    user = getattr(request.state, "viewer", None)
    my_tasks = [t for t in request.app.state.tasks if user and user.role in t.roles]
    ui = ui_language.current(request)
    gettext = i18n.gettext(ui)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "my_tasks": my_tasks,
            "nav_items": [
                {"text": gettext(t.title), "href": t.path, "current": t.path == request.url.path}
                for t in my_tasks
            ],
            "current_path": request.url.path,
            "csrf_token": sessions.csrf_token(request, browser_session),
            "cspNonce": request.state.csp_nonce,
            "frontend": request.app.state.frontend_available,
            "_": gettext,
            "service_name": gettext(SERVICE_NAME),
            "ui_language": ui,
            "ui_languages": ui_language.choices(),
            "htmlLang": ui,
            "htmlAttributes": {"dir": i18n.language(ui).direction},
            **context,
        },
        status_code=status_code,
    )
    if fresh:
        sessions.write(response, request, browser_session)
    return response
