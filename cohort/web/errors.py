"""What a refusal or a failure looks like: a page for people, in their UI language, and
``{"detail", "field"}`` JSON under ``/api/`` (in English, for programs). No traceback or
internal detail ever leaves; failures are logged here."""

import logging
from html import escape

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from cohort import i18n
from cohort.errors import CohortError
from cohort.i18n import Message
from cohort.web import ui_language
from cohort.web.pages import SERVICE_NAME, error_text, render
from cohort.web.security import security_headers
from forms.i18n import N_

API_PREFIX = "/api/"
log = logging.getLogger("cohort.web")

A_PROBLEM = N_("There is a problem")
TITLES = {
    401: N_("Sign in"),
    403: N_("You cannot use this page"),
    404: N_("Page not found"),
    405: N_("That action is not available here"),
}
HTTP_MESSAGES = {
    404: N_("if you typed the web address, check it is correct"),
    405: N_("this address does not accept that kind of request"),
}
NOT_VALID = "%(field)s: %(reason)s"  # Pydantic's reason is English: nothing to translate
# The last-resort page is plain HTML, so it shows even when page rendering is what failed.
SERVER_ERROR_TITLE = N_("Sorry, there is a problem with the service")
SERVER_ERROR_TEXT = N_(
    "Try again later. Nothing you were doing has been saved unless you saw it confirmed."
)
GO_HOME = N_("Go to the home page")
# The database cannot take the request (disk full, read-only, unreachable): a passing
# state of the deployment, not a fault in what the person did.
STORAGE_TITLE = N_("Sorry, the service cannot save anything at the moment")
STORAGE_TEXT = N_(
    "Nothing was saved. Try again in a few minutes. If this keeps happening, tell your "
    "service desk that the cohort database is not accepting changes."
)
STORAGE_API = (
    "the database is not accepting changes (full, read-only or unreachable): nothing was "
    "saved; retry later with the same Idempotency-Key"
)
STORAGE_RETRY_AFTER_S = "30"
# Every connection stayed busy for the pool's whole wait: the request did not start.
BUSY_API = (
    "the service is too busy to take the request: nothing was saved; retry in a few "
    "seconds with the same Idempotency-Key"
)
BUSY_RETRY_AFTER_S = "5"
READ_ONLY_SQLSTATE = "25006"  # PostgreSQL: a read-only transaction or database
SERVER_ERROR_PAGE = """<!DOCTYPE html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">
<title>{title} - {service}</title></head>
<body><main><h1>{title}</h1>
<p>{text}</p>
<p><a href="/">{home}</a></p></main></body></html>"""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def problem(
    request: Request, status: int, message: str | Message, field: str | None = None
) -> Response:
    """The refusal as JSON (English) for the API, else as a page in the UI language."""
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": str(message), "field": field}, status, headers=headers)
    gettext = i18n.gettext(ui_language.current(request))
    text = message.translated(gettext) if isinstance(message, Message) else gettext(message)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return render(request, "login.html", status_code=401, notice=text, next=target)
    return render(
        request,
        "error.html",
        status_code=status,
        title=gettext(TITLES.get(status, A_PROBLEM)),
        message=text,
    )


async def _cohort_error(request: Request, exc: CohortError) -> Response:
    if exc.status_code >= 500:
        log.error("refused with %s: %s", type(exc).__name__, exc.message)
    return problem(request, exc.status_code, error_text(exc), exc.field)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
    return problem(request, exc.status_code, message)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    """Pydantic says what is wrong in English: the API passes it on; a page names the
    field and shows it as written (such requests come from altered addresses or forms)."""
    first = exc.errors()[0] if exc.errors() else {}
    field = str(first.get("loc", ("", "input"))[-1])
    reason = str(first.get("msg", "is not valid")).lower()
    message = Message(NOT_VALID, {"field": field.replace("_", " "), "reason": reason})
    return problem(request, 422, message, field)


def _server_error_page(
    request: Request, title: str = SERVER_ERROR_TITLE, text: str = SERVER_ERROR_TEXT
) -> str:
    code = ui_language.current(request)
    gettext = i18n.gettext(code)
    return SERVER_ERROR_PAGE.format(
        lang=code,
        dir=i18n.language(code).direction,
        title=escape(gettext(title)),
        service=escape(gettext(SERVICE_NAME)),
        text=escape(gettext(text)),
        home=escape(gettext(GO_HOME)),
    )


def _storage_unavailable(exc: DBAPIError) -> bool:
    return isinstance(exc, OperationalError) or (
        getattr(exc.orig, "sqlstate", None) == READ_ONLY_SQLSTATE
    )


def _unavailable(request: Request, api_detail: str, page_text: str, retry_after: str) -> Response:
    headers = {**security_headers(None, request.url.path), "Retry-After": retry_after}
    if _is_api(request):
        return JSONResponse({"detail": api_detail, "field": None}, 503, headers=headers)
    page = _server_error_page(request, STORAGE_TITLE, page_text)
    return HTMLResponse(page, 503, headers=headers)


async def _database_error(request: Request, exc: DBAPIError) -> Response:
    """A database that cannot take changes answers 503 with what to do; any other
    database failure is a server error. The driver's message may quote the statement's
    values, so only its class is logged."""
    if not _storage_unavailable(exc):
        return await _server_error(request, exc)
    log.error(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        type(exc.orig).__name__,
    )
    return _unavailable(request, STORAGE_API, STORAGE_TEXT, STORAGE_RETRY_AFTER_S)


async def _pool_timeout(request: Request, exc: PoolTimeout) -> Response:
    """More requests at once than database connections, for longer than the pool waits:
    a passing overload, so 503 and a retry, not a server error."""
    log.error("no database connection free on %s %s", request.method, request.url.path)
    return _unavailable(request, BUSY_API, SERVER_ERROR_TEXT, BUSY_RETRY_AFTER_S)


async def _server_error(request: Request, exc: Exception) -> Response:
    """Outside every middleware, so the security headers are added here too."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    headers = security_headers(None, request.url.path)
    if _is_api(request):
        return JSONResponse({"detail": "internal error", "field": None}, 500, headers=headers)
    return HTMLResponse(_server_error_page(request), 500, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(CohortError, _cohort_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(Exception, _server_error)
