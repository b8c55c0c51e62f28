"""Rendering pages: the Jinja environment with the NHS.UK macros, and what every page
needs (the signed-in user, her menu, the CSRF token, the CSP nonce).

The menu is read from the routes themselves: a page route with a ``summary`` is a task,
offered to exactly the roles its ``requires`` declaration lets through.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader
from starlette.templating import Jinja2Templates

from cohort import i18n
from cohort.errors import CohortError
from cohort.models import ROLES, Site
from cohort.web import sessions, ui_language
from cohort.web.deps import app_routes, declared_roles

TEMPLATES_DIR = Path(__file__).parent / "templates"
SERVICE_NAME = "Birth cohort"
STATIC_NHSUK = "/static/nhsuk"
ROLE_LABELS = {
    "midwife": "Midwife",
    "data_manager": "Data manager",
    "researcher": "Researcher",
    "governance": "Governance lead",
    "admin": "Administrator",
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


def field_error(error: CohortError | None, field: str) -> dict[str, str] | None:
    if error is not None and error.field == field:
        return {"text": sentence(error.message)}
    return None


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def role_items() -> list[dict[str, str]]:
    return [{"value": role, "text": role_label(role)} for role in ROLES]


def site_items(sites: list[Site]) -> list[dict[str, str]]:
    return [{"value": site.code, "text": f"{site.name} ({site.code})"} for site in sites]


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(TEMPLATES_DIR), PackageLoader("nhsuk_frontend_jinja")]
        ),
        undefined=ChainableUndefined,
        autoescape=True,
    )
    env.filters["sentence"] = sentence
    env.globals.update(
        field_error=field_error,
        role_label=role_label,
        role_items=role_items,
        site_items=site_items,
        service_name=SERVICE_NAME,
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
