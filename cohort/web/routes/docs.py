"""``/api/v1/docs``: Swagger UI served from this site, started by a script file, so the
strict Content-Security-Policy holds on the docs page too. What shows before the script
runs (or without it) is a page like any other, in the UI language."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cohort.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    return render(request, "api_docs.html", openapi_url=request.app.openapi_url)
