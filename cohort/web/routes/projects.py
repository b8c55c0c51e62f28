"""Research projects: the register (data managers and governance leads register and
staff them; researchers see their own), each project's page, and ``/api/v1/projects``."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from cohort import i18n
from cohort.errors import CohortError, Forbidden
from cohort.models import Project, User
from cohort.research import extracts, projects
from cohort.research.catalogue import datasets
from cohort.web import ui_language
from cohort.web.deps import DbSession, requires
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["research"])

TITLE = N_("Research projects")
EDIT_TITLE = N_("Change the approval")
ProjectAdmin = Annotated[User, Depends(requires(*projects.ADMIN_ROLES))]
ProjectViewer = Annotated[User, Depends(requires(*projects.ADMIN_ROLES, "researcher"))]
DONE = {
    "registered": N_("The project was registered."),
    "added": N_("The researcher was added to the project."),
    "removed": N_("The researcher was removed: her access has ended."),
    "edited": N_("The approval was changed."),
}


class ProjectOut(BaseModel):
    code: str
    title: str
    lead: str
    approval_reference: str
    approved_from: date | None
    approved_until: date | None
    variables: dict[str, list[str]]
    date_granularity: str
    row_level: bool
    approved_today: bool


class ProjectIn(BaseModel):
    code: str
    title: str
    lead: str
    approval_reference: str
    approved_from: date
    approved_until: date
    variables: list[str]
    date_granularity: str = "month"
    row_level: bool = False


class ProjectChange(BaseModel):
    """Only the fields given change; ``variables`` replaces the whole approval."""

    approved_until: date | None = None
    variables: list[str] | None = None
    date_granularity: str | None = None
    row_level: bool | None = None

    def change(self) -> projects.Change:
        variables = None if self.variables is None else tuple(self.variables)
        return projects.Change(**{**self.model_dump(), "variables": variables})


def project_out(project: Project) -> ProjectOut:
    return ProjectOut.model_validate(
        {**project.model_dump(), "approved_today": projects.approval_open(project)}
    )


def visible_projects(db, user: User) -> list[Project]:
    if user.role == "researcher":
        return projects.my_projects(db, user)
    return projects.list_projects(db)


def viewable(db, user: User, code: str) -> Project:
    """The project if this user may see its page: an admin any, a researcher her own."""
    project = projects.get_project(db, code)
    if user.role == "researcher" and project not in projects.my_projects(db, user):
        raise Forbidden(f"you are not a researcher on project {project.code}")
    return project


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CohortError(
            "enter the date as YYYY-MM-DD, for example 2026-04-01", field=field
        ) from None


def _variable_items(chosen: list[str]) -> list[tuple]:
    """Each dataset with its variables as checkbox items ("dataset.variable")."""
    return [
        (
            ds,
            [
                {"value": f"{ds.name}.{v}", "text": v, "checked": f"{ds.name}.{v}" in chosen}
                for v in ds.variables
            ],
        )
        for ds in datasets().values()
    ]


def _page(request: Request, db, user: User, *, status_code: int = 200, **context) -> Response:
    form = context.pop("form", {"variables": [], "date_granularity": "month"})
    return render(
        request,
        "projects.html",
        status_code=status_code,
        projects=visible_projects(db, user),
        can_register=user.role in projects.ADMIN_ROLES,
        variable_items=_variable_items(form["variables"]),
        form=form,
        **context,
    )


@router.get("/projects", summary=TITLE)
def projects_page(request: Request, user: ProjectViewer, db: DbSession, done: str = ""):
    return _page(request, db, user, done=DONE.get(done))


@router.post("/projects")
async def register_form(request: Request, user: ProjectAdmin, db: DbSession) -> Response:
    posted = await request.form()
    form = {k: str(posted.get(k, "")) for k in ProjectIn.model_fields if k != "variables"}
    form["variables"] = [str(v) for v in posted.getlist("variables")]
    try:
        approval = projects.Approval(
            code=form["code"],
            title=form["title"],
            lead=form["lead"],
            approval_reference=form["approval_reference"],
            approved_from=_day(form["approved_from"], "approved_from"),
            approved_until=_day(form["approved_until"], "approved_until"),
            variables=tuple(form["variables"]),
            date_granularity=form["date_granularity"] or "month",
            row_level=form["row_level"] == "yes",
        )
        project = projects.register(db, approval, actor=user.username)
    except CohortError as exc:
        return _page(request, db, user, status_code=exc.status_code, form=form, error=exc)
    return RedirectResponse(f"/projects/{project.code}?done=registered", status_code=303)


def _extract_items(project: Project, chosen: list[str] | None) -> list[tuple]:
    """The extract form's checkboxes: each approved dataset's variables, all ticked
    unless the researcher chose otherwise."""
    known = datasets()
    return [
        (
            known[name],
            [
                {
                    "value": f"{name}.{v}",
                    "text": v,
                    "checked": chosen is None or f"{name}.{v}" in chosen,
                }
                for v in names
            ],
        )
        for name, names in project.variables.items()
        if name in known
    ]


def render_project(
    request: Request,
    db,
    user: User,
    project: Project,
    *,
    status_code: int = 200,
    done: str = "",
    error: CohortError | None = None,
    chosen: list[str] | None = None,
) -> Response:
    """The project's page, with the extract form as the researcher left it."""
    return render(
        request,
        "project.html",
        status_code=status_code,
        title=project.title,
        project=project,
        approved_today=projects.approval_open(project),
        is_admin=user.role in projects.ADMIN_ROLES,
        researchers=projects.researchers(db, project),
        extracts=extracts.listed(db, project),
        datasets=datasets(),
        extract_items=_extract_items(project, chosen),
        done=DONE.get(done) or extracts.DONE.get(done),
        error=error,
    )


@router.get("/projects/{code}")
def project_page(request: Request, user: ProjectViewer, db: DbSession, code: str, done: str = ""):
    return render_project(request, db, user, viewable(db, user, code), done=done)


def _edit_page(
    request: Request, project: Project, form: dict, *, status_code: int = 200, **context
) -> Response:
    return render(
        request,
        "project_edit.html",
        status_code=status_code,
        title=i18n.gettext(ui_language.current(request))(EDIT_TITLE),
        project=project,
        form=form,
        variable_items=_variable_items(form["variables"]),
        **context,
    )


@router.get("/projects/{code}/edit")
def edit_page(request: Request, user: ProjectAdmin, db: DbSession, code: str):
    project = projects.get_project(db, code)
    form = {
        "approved_until": str(project.approved_until or ""),
        "variables": [f"{d}.{v}" for d, names in project.variables.items() for v in names],
        "date_granularity": project.date_granularity,
        "row_level": "yes" if project.row_level else "",
    }
    return _edit_page(request, project, form)


@router.post("/projects/{code}/edit")
async def edit_form(request: Request, user: ProjectAdmin, db: DbSession, code: str) -> Response:
    project = projects.get_project(db, code)
    posted = await request.form()
    form = {k: str(posted.get(k, "")) for k in ("approved_until", "date_granularity", "row_level")}
    form["variables"] = [str(v) for v in posted.getlist("variables")]
    try:
        change = projects.Change(
            approved_until=_day(form["approved_until"], "approved_until"),
            variables=tuple(form["variables"]),
            date_granularity=form["date_granularity"] or project.date_granularity,
            row_level=form["row_level"] == "yes",
        )
        projects.edit(db, project.code, change, actor=user.username)
    except CohortError as exc:
        return _edit_page(request, project, form, status_code=exc.status_code, error=exc)
    return RedirectResponse(f"/projects/{project.code}?done=edited", status_code=303)


@router.post("/projects/{code}/researchers")
def change_researchers(
    user: ProjectAdmin,
    db: DbSession,
    code: str,
    username: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "add",
) -> Response:
    change = projects.remove_researcher if action == "remove" else projects.add_researcher
    change(db, code, username, actor=user.username)
    done = "removed" if action == "remove" else "added"
    return RedirectResponse(f"/projects/{code.upper()}?done={done}", status_code=303)


@api.get("/projects")
def list_projects(user: ProjectViewer, db: DbSession) -> list[ProjectOut]:
    """Projects: every one for data managers and governance, a researcher's own for her."""
    return [project_out(p) for p in visible_projects(db, user)]


@api.post("/projects", status_code=201)
def register_project(body: ProjectIn, user: ProjectAdmin, db: DbSession) -> ProjectOut:
    """Register an approved project; variables are "dataset.variable" or "dataset"."""
    approval = projects.Approval(**{**body.model_dump(), "variables": tuple(body.variables)})
    return project_out(projects.register(db, approval, actor=user.username))


@api.patch("/projects/{code}")
def edit_project(body: ProjectChange, user: ProjectAdmin, db: DbSession, code: str) -> ProjectOut:
    """Change a project's end date, approved variables, date granularity or row-level
    flag; each change is audited before and after. Extracts already made stay as they
    are."""
    return project_out(projects.edit(db, code, body.change(), actor=user.username))


@api.get("/projects/{code}")
def get_project(user: ProjectViewer, db: DbSession, code: str) -> ProjectOut:
    return project_out(viewable(db, user, code))
