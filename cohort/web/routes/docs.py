"""``/api/v1/docs``: Swagger UI served from this site, started by a script file, so the
strict Content-Security-Policy holds on the docs page too."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    return request.app.state.templates.TemplateResponse(
        request,
        "api_docs.html",
        {"title": request.app.title, "openapi_url": request.app.openapi_url},
    )
