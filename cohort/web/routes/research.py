"""A researcher's work on a project: making and downloading extracts (web and
``/api/v1``), aggregate queries, and the SQL console. Each route opens the project
through ``projects.open_project``, so a removed researcher or an ended approval is
refused (403) on every one of them, however the URL was reached."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from cohort.models import User
from cohort.research import extracts, projects
from cohort.web.deps import DbSession, InstanceDep, requires

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
def request_extract_form(
    user: Researcher, db: DbSession, instance: InstanceDep, code: str
) -> Response:
    extracts.make_extract(db, instance.settings, instance.keys.pseudonym, user, code)
    return RedirectResponse(f"/projects/{code.upper()}?done=extracted#extracts", status_code=303)


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


@api.post("/projects/{code}/extracts", status_code=201)
def request_extract(
    user: Researcher, db: DbSession, instance: InstanceDep, code: str
) -> ExtractOut:
    """Make an extract of the project's approved data as of now."""
    made = extracts.make_extract(db, instance.settings, instance.keys.pseudonym, user, code)
    return extract_out(extracts.Listed(made, code.upper(), 0, 0))


@api.get("/extracts/{extract_id}/files/{name}")
def download_file(
    user: Researcher, db: DbSession, instance: InstanceDep, extract_id: int, name: str
) -> Response:
    """One file of an extract by name (see the manifest), or ``zip`` for all of them."""
    return _file_response(*extracts.download(db, instance.settings, user, extract_id, name))
