"""Finding a participant by NHS number (data managers). The result shows her study ID and
site only; seeing her identity is a separate, deliberate action that the vault audits.

Both are POSTs so an NHS number never appears in a URL, a server log or browser history.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from cohort import participant_search
from cohort.errors import CohortError
from cohort.sites import get_site_by_id
from cohort.web.deps import DataManager, DbSession, InstanceDep, Source
from cohort.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/participants/find", summary="Find a participant")
def find_page(request: Request, user: DataManager) -> Response:
    return render(request, "participant_find.html")


@router.post("/participants/find")
def find(
    request: Request,
    user: DataManager,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    nhs_number: Annotated[str, Form()] = "",
) -> Response:
    try:
        participant = participant_search.find(
            db, instance.keys, nhs_number, actor=user.username, source=source
        )
    except CohortError as exc:
        return render(
            request,
            "participant_find.html",
            status_code=exc.status_code,
            error=exc,
            nhs_number=nhs_number,
        )
    return render(
        request,
        "participant_find.html",
        searched=True,
        nhs_number=nhs_number,
        participant=participant,
        site=get_site_by_id(db, participant.site_id) if participant else None,
    )


@router.post("/participants/identity")
def view_identity(
    request: Request,
    user: DataManager,
    db: DbSession,
    instance: InstanceDep,
    source: Source,
    nhs_number: Annotated[str, Form()] = "",
) -> Response:
    participant, identity = participant_search.identity(
        db, instance.keys, nhs_number, actor=user.username, source=source
    )
    return render(
        request,
        "participant_identity.html",
        participant=participant,
        identity=identity,
        site=get_site_by_id(db, participant.site_id),
    )
