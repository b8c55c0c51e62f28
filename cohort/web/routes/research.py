"""A researcher's work on a project: making and downloading extracts (web and
``/api/v1``), aggregate queries, and the SQL console. Each route opens the project
through ``projects.open_project``, so a removed researcher or an ended approval is
refused (403) on every one of them, however the URL was reached."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from cohort import i18n
from cohort.errors import CohortError, Forbidden
from cohort.models import Project, User
from cohort.research import extracts, projects, queries, query_chart, sql_console
from cohort.web import ui_language
from cohort.web.deps import DbSession, InstanceDep, requires
from cohort.web.pages import render
from cohort.web.routes.projects import render_project
from forms.i18n import N_

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["research"])

Researcher = Annotated[User, Depends(requires("researcher"))]
MEDIA_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".zip": "application/zip",
}


class ExtractFile(BaseModel):
    name: str
    rows: int | None
    bytes: int
    sha256: str


class ExtractOut(BaseModel):
    id: int
    project: str
    requested_by: str
    created_at: datetime
    snapshot_at: datetime
    files: list[ExtractFile]
    withdrawn_since: int


def extract_out(item: extracts.Listed) -> ExtractOut:
    e = item.extract
    return ExtractOut(
        id=e.id,
        project=item.project,
        requested_by=e.requested_by,
        created_at=e.created_at,
        snapshot_at=e.snapshot_at,
        files=[ExtractFile(**f) for f in e.files],
        withdrawn_since=item.withdrawn,
    )


def _file_response(name: str, body: bytes) -> Response:
    suffix = name[name.rfind(".") :]
    return Response(
        body,
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/projects/{code}/extracts")
async def request_extract_form(
    request: Request, user: Researcher, db: DbSession, instance: InstanceDep, code: str
) -> Response:
    chosen = [str(v) for v in (await request.form()).getlist("variables")]
    try:
        extracts.make_extract(
            db, instance.settings, instance.keys.pseudonym, user, code, variables=chosen
        )
    except Forbidden:
        raise
    except CohortError as exc:
        project = projects.open_project(db, user, code)
        return render_project(
            request, db, user, project, status_code=exc.status_code, error=exc, chosen=chosen
        )
    return RedirectResponse(f"/projects/{code.upper()}?done=extracted#extracts", status_code=303)


@router.post("/extracts/{extract_id}/rerun")
def rerun_form(user: Researcher, db: DbSession, instance: InstanceDep, extract_id: int):
    made = extracts.rerun(db, instance.settings, instance.keys.pseudonym, user, extract_id)
    code = db.get(Project, made.project_id).code
    return RedirectResponse(f"/projects/{code}?done=extracted#extracts", status_code=303)


@router.get("/extracts/{extract_id}/files/{name}")
def download_page(
    user: Researcher, db: DbSession, instance: InstanceDep, extract_id: int, name: str
) -> Response:
    return _file_response(*extracts.download(db, instance.settings, user, extract_id, name))


@router.post("/extracts/{extract_id}/delete")
def delete_form(user: Researcher, db: DbSession, instance: InstanceDep, extract_id: int):
    _, project = extracts.open_extract(db, user, extract_id)
    extracts.delete(db, instance.settings, user, extract_id)
    return RedirectResponse(f"/projects/{project.code}?done=deleted#extracts", status_code=303)


@api.get("/projects/{code}/extracts")
def list_extracts(user: Researcher, db: DbSession, code: str) -> list[ExtractOut]:
    """The project's extracts, each with its files and how many of its participants have
    since withdrawn fully (delete and re-pull when that is not 0)."""
    project = projects.open_project(db, user, code)
    return [extract_out(item) for item in extracts.listed(db, project)]


class ExtractIn(BaseModel):
    variables: list[str] | None = None  # "dataset.variable" or "dataset"; None: all approved


@api.post("/projects/{code}/extracts", status_code=201)
def request_extract(
    user: Researcher,
    db: DbSession,
    instance: InstanceDep,
    code: str,
    body: ExtractIn | None = None,
) -> ExtractOut:
    """Make an extract of the project's approved data as of now: every approved variable,
    or those ``variables`` names ("dataset.variable", or "dataset" for all of its)."""
    chosen = body.variables if body else None
    made = extracts.make_extract(
        db, instance.settings, instance.keys.pseudonym, user, code, variables=chosen
    )
    return extract_out(extracts.Listed(made, code.upper(), 0, 0))


@api.post("/extracts/{extract_id}/rerun", status_code=201)
def rerun_extract(
    user: Researcher, db: DbSession, instance: InstanceDep, extract_id: int
) -> ExtractOut:
    """A new extract from a saved one's definition and snapshot (refused if the
    project's approval no longer covers it): the same files, unless someone withdrew."""
    made = extracts.rerun(db, instance.settings, instance.keys.pseudonym, user, extract_id)
    return extract_out(extracts.Listed(made, db.get(Project, made.project_id).code, 0, 0))


@api.get("/extracts/{extract_id}/files/{name}")
def download_file(
    user: Researcher, db: DbSession, instance: InstanceDep, extract_id: int, name: str
) -> Response:
    """One file of an extract by name (see the manifest), or ``zip`` for all of them."""
    return _file_response(*extracts.download(db, instance.settings, user, extract_id, name))


QUERY_TITLE = N_("Aggregate query")
CONSOLE_TITLE = N_("SQL console")
SUPPRESSED = N_("suppressed")


class QueryIn(BaseModel):
    dataset: str
    group_by: list[str] = []
    measure: str = "count"
    of: str | None = None
    filters: dict[str, str] = {}

    def query(self) -> queries.Query:
        return queries.Query(
            self.dataset,
            tuple(self.group_by),
            self.measure,
            self.of or None,
            tuple(sorted(self.filters.items())),
        )


class QueryRowOut(BaseModel):
    groups: list[str]
    n: int | None
    value: float | None


class QueryOut(BaseModel):
    query: dict
    rows: list[QueryRowOut]
    suppressed: int
    threshold: int
    rounding: int


def query_out(result: queries.Result, settings) -> QueryOut:
    return QueryOut(
        query=result.query.as_json(),
        rows=[QueryRowOut(groups=list(r.groups), n=r.n, value=r.value) for r in result.rows],
        suppressed=result.suppressed,
        threshold=settings.sdc_threshold,
        rounding=settings.sdc_rounding,
    )


def _choices(project, form: dict) -> dict[str, list[dict]]:
    """The query form's options: the project's datasets and approved variables."""
    names = list(dict.fromkeys(v for vs in project.variables.values() for v in vs))

    def options(chosen: str) -> list[dict]:
        return [{"value": n, "text": n, "selected": n == chosen} for n in names]

    return {
        "dataset": [
            {"value": d, "text": d, "selected": d == form["dataset"]} for d in project.variables
        ],
        "group_by": [{"value": n, "text": n, "checked": n in form["group_by"]} for n in names],
        "of": options(form["of"]),
        "filter_variable": options(form["filter_variable"]),
    }


def _gettext(request: Request):
    return i18n.gettext(ui_language.current(request))


@router.get("/projects/{code}/queries")
def query_page(
    request: Request,
    user: Researcher,
    db: DbSession,
    instance: InstanceDep,
    code: str,
    dataset: str = "",
    group_by: Annotated[list[str], Query()] = [],  # noqa: B006
    measure: str = "count",
    of: str = "",
    filter_variable: str = "",
    filter_value: str = "",
):
    project = projects.open_project(db, user, code)
    gettext = _gettext(request)
    form = {
        "dataset": dataset,
        "group_by": group_by,
        "measure": measure,
        "of": of,
        "filter_variable": filter_variable,
        "filter_value": filter_value,
    }
    result = chart = error = None
    if dataset:
        filters = ((filter_variable, filter_value),) if filter_variable else ()
        wanted = queries.Query(
            dataset, tuple(g for g in group_by if g), measure, of or None, filters
        )
        try:
            result = queries.run(
                db, instance.settings, instance.keys.pseudonym, user, project.code, wanted
            )
            chart = query_chart.chart(result, gettext(QUERY_TITLE), gettext(SUPPRESSED))
        except CohortError as exc:
            error = exc
    return render(
        request,
        "research_query.html",
        status_code=error.status_code if error else 200,
        title=gettext(QUERY_TITLE),
        project=project,
        form=form,
        choices=_choices(project, form),
        result=result,
        chart=chart,
        error=error,
        settings=instance.settings,
    )


@api.post("/projects/{code}/queries")
def run_query(
    body: QueryIn, user: Researcher, db: DbSession, instance: InstanceDep, code: str
) -> QueryOut:
    """An aggregate query on the project's approved data: counts of people (suppressed at
    or below the threshold, others rounded), means and medians withheld with them."""
    result = queries.run(db, instance.settings, instance.keys.pseudonym, user, code, body.query())
    return query_out(result, instance.settings)


@router.get("/projects/{code}/console")
def console_page(request: Request, user: Researcher, db: DbSession, code: str):
    project = projects.open_project(db, user, code)
    return render(
        request,
        "research_console.html",
        title=_gettext(request)(CONSOLE_TITLE),
        project=project,
        sql="",
        result=None,
        limits=(sql_console.ROW_LIMIT, sql_console.TIME_LIMIT_S),
    )


@router.post("/projects/{code}/console")
def console_run(
    request: Request,
    user: Researcher,
    db: DbSession,
    instance: InstanceDep,
    code: str,
    sql: Annotated[str, Form()] = "",
):
    project = projects.open_project(db, user, code)
    result = error = None
    try:
        result = sql_console.run(db, instance.settings, user, project.code, sql)
    except Forbidden:
        raise
    except CohortError as exc:
        error = exc
    return render(
        request,
        "research_console.html",
        status_code=error.status_code if error else 200,
        title=_gettext(request)(CONSOLE_TITLE),
        project=project,
        sql=sql,
        result=result,
        error=error,
        limits=(sql_console.ROW_LIMIT, sql_console.TIME_LIMIT_S),
    )


class ConsoleIn(BaseModel):
    sql: str


class ConsoleOut(BaseModel):
    columns: list[str]
    rows: list[list[Any]]  # None where disclosure control suppressed or withheld a value
    truncated: bool  # more rows than row_limit: only the first row_limit are here
    aggregate: bool  # disclosure control was applied
    suppressed: int
    row_limit: int
    time_limit_s: float


def _cell(value: Any) -> Any:
    """A console value as JSON carries it: exact decimals as numbers, bytes as hex."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray):
        return value.hex()
    return value


@api.post("/projects/{code}/console")
def run_console(
    body: ConsoleIn, user: Researcher, db: DbSession, instance: InstanceDep, code: str
) -> ConsoleOut:
    """One SELECT over the project's latest extract, as on the console page: other
    statement types refused (400), at most ``row_limit`` rows, stopped after
    ``time_limit_s``; aggregate results pass through disclosure control."""
    result = sql_console.run(db, instance.settings, user, code, body.sql)
    return ConsoleOut(
        columns=result.columns,
        rows=[[_cell(v) for v in row] for row in result.rows],
        truncated=result.truncated,
        aggregate=result.aggregate,
        suppressed=result.suppressed,
        row_limit=sql_console.ROW_LIMIT,
        time_limit_s=sql_console.TIME_LIMIT_S,
    )
