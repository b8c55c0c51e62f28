"""What a refusal or a failure looks like: a page for people, ``{"detail", "field"}`` JSON
under ``/api/``. No traceback or internal detail ever leaves; failures are logged here."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from cohort.errors import CohortError
from cohort.web.pages import SERVICE_NAME, render
from cohort.web.security import security_headers

API_PREFIX = "/api/"
log = logging.getLogger("cohort.web")

TITLES = {
    400: "There is a problem",
    401: "Sign in",
    403: "You cannot use this page",
    404: "Page not found",
    405: "That action is not available here",
    409: "There is a problem",
    422: "There is a problem",
}
HTTP_MESSAGES = {
    404: "if you typed the web address, check it is correct",
    405: "this address does not accept that kind of request",
}
SERVER_ERROR_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Sorry, there is a problem - {SERVICE_NAME}</title></head>
<body><main><h1>Sorry, there is a problem with the service</h1>
<p>Try again later. Nothing you were doing has been saved unless you saw it confirmed.</p>
<p><a href="/">Go to the home page</a></p></main></body></html>"""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def problem(request: Request, status: int, message: str, field: str | None = None) -> Response:
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": message, "field": field}, status, headers=headers)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return render(request, "login.html", status_code=401, notice=message, next=target)
    return render(
        request,
        "error.html",
        status_code=status,
        title=TITLES.get(status, "There is a problem"),
        message=message,
    )


async def _cohort_error(request: Request, exc: CohortError) -> Response:
    if exc.status_code >= 500:
        log.error("refused with %s: %s", type(exc).__name__, exc.message)
    return problem(request, exc.status_code, exc.message, exc.field)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return problem(request, exc.status_code, message)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    field = str(first.get("loc", ("", "input"))[-1])
    message = f"{field.replace('_', ' ')}: {first.get('msg', 'is not valid').lower()}"
    return problem(request, 422, message, field)


async def _server_error(request: Request, exc: Exception) -> Response:
    """Outside every middleware, so the security headers are added here too."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    headers = security_headers(None, request.url.path)
    if _is_api(request):
        return JSONResponse({"detail": "internal error", "field": None}, 500, headers=headers)
    return HTMLResponse(SERVER_ERROR_PAGE, 500, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(CohortError, _cohort_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
