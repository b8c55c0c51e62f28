"""Typed dependencies: a route's signature says what it needs and who may call it.

``requires(*roles)`` is the only way to let a signed-in user through, and it leaves the
roles on the dependency (``allowed_roles``), so the route-by-role test reads every route's
declaration from the app itself. A route that declares no roles and is not on the public
list fails that test.

A page that only reads takes ``ReadSession`` and a ``requires(..., read_only=True)`` user,
so the whole request runs in one read-only transaction that never holds SQLite's write
lock (``cohort.db.read_scope``). Anything such a page records (an audit event) goes in a
short ``session_scope(instance.engine)`` of its own, committed before the page is returned.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.datastructures import FormData

from cohort.auth import tokens
from cohort.db import read_scope, session_scope
from cohort.errors import CohortError, Forbidden
from cohort.instance import Instance
from cohort.models import ROLES, User
from cohort.web import sessions
from forms.i18n import N_

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
# Marked so a page shows them in the UI language (cohort.web.pages.error_text).
TOKEN_NOT_VALID = N_("the API token is not valid: it may have been revoked")
SIGN_IN = N_("sign in to continue")
NOT_FROM_HERE = N_(
    "this form was not sent from this service or has expired: go back, reload the page and "
    "try again"
)
ROLE_REFUSED = N_("your role (%(role)s) cannot use this page")


class NotSignedIn(CohortError):
    status_code = 401


class RoleRefused(Forbidden):
    """A signed-in user whose role the page does not serve; ``template`` and ``params``
    let the page say so in her language."""

    def __init__(self, role: str) -> None:
        self.template, self.params = ROLE_REFUSED, {"role": role.replace("_", " ")}
        super().__init__(ROLE_REFUSED % self.params)


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as pages show it; unlike the ORM row it outlives the transaction,
    so an error page rendered after a rollback can still show it."""

    username: str
    full_name: str
    role: str
    site_id: int | None


def get_instance(request: Request) -> Instance:
    return request.app.state.instance


InstanceDep = Annotated[Instance, Depends(get_instance)]


def db_session(instance: InstanceDep) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with session_scope(instance.engine) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def read_session(instance: InstanceDep) -> Iterator[Session]:
    """One read-only transaction per request: a write attempted in it is refused."""
    with read_scope(instance.engine) as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session, scope="function")]


def client_address(request: Request) -> str | None:
    """Where a request came from, for the audit trail's ``source``."""
    return request.client.host if request.client else None


Source = Annotated[str | None, Depends(client_address)]

_bearer = HTTPBearer(auto_error=False, description="A personal API token from your account page")


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token a state-changing browser request carries (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return None
    if header := request.headers.get(CSRF_HEADER):
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _caller(
    request: Request,
    db: Session,
    bearer: HTTPAuthorizationCredentials | None,
    csrf: str | None,
) -> User:
    """The caller: by API token (no cookie, so no CSRF check) or by browser session."""
    if bearer is not None:
        user = tokens.user_for_token(db, bearer.credentials)
        if user is None:
            raise NotSignedIn(TOKEN_NOT_VALID)
    else:
        browser_session = sessions.read(request)
        user = sessions.signed_in_user(db, browser_session) if browser_session else None
        if user is None:
            raise NotSignedIn(SIGN_IN)
        if request.method in UNSAFE_METHODS and not sessions.csrf_matches(
            request, browser_session, csrf
        ):
            raise Forbidden(NOT_FROM_HERE)
        request.state.browser_session = browser_session
    request.state.viewer = Viewer(user.username, user.full_name, user.role, user.site_id)
    return user


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SubmittedCsrf = Annotated[str | None, Depends(submitted_csrf_token)]


def current_user(request: Request, db: DbSession, bearer: Bearer, csrf: SubmittedCsrf) -> User:
    """The caller, looked up in the request's transaction (a route may change her)."""
    return _caller(request, db, bearer, csrf)


def current_reader(request: Request, db: ReadSession, bearer: Bearer, csrf: SubmittedCsrf) -> User:
    """The caller of a read-only page, looked up in its read session."""
    return _caller(request, db, bearer, csrf)


def requires(*roles: str, read_only: bool = False) -> Callable[[User], User]:
    """A dependency letting through signed-in users whose role is one of ``roles``;
    ``read_only`` for a page on ``ReadSession``."""
    if not roles or not set(roles) <= set(ROLES):
        raise ValueError(f"requires() takes roles from {ROLES}, not {roles}")
    caller = current_reader if read_only else current_user

    def allowed(user: Annotated[User, Depends(caller)]) -> User:
        if user.role not in roles:
            raise RoleRefused(user.role)
        return user

    allowed.allowed_roles = frozenset(roles)
    return allowed


def app_routes(app: FastAPI) -> list[RouteContext]:
    """Every route of the app, included routers flattened with their prefixes applied."""
    return list(iter_route_contexts(app.routes))


def declared_roles(route: RouteContext) -> frozenset[str] | None:
    """The roles a route lets through, read from its ``requires`` dependencies (None: none)."""
    found: frozenset[str] | None = None
    pending = [route.dependant] if hasattr(route, "dependant") else []
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "allowed_roles", None)
        if roles is not None:
            found = roles if found is None else found & roles
        pending.extend(dependant.dependencies)
    return found


CurrentUser = Annotated[User, Depends(requires(*ROLES))]
AdminUser = Annotated[User, Depends(requires("admin"))]
DataManager = Annotated[User, Depends(requires("data_manager"))]
AuditReader = Annotated[User, Depends(requires("governance", "admin"))]
ReadOnlyAuditReader = Annotated[User, Depends(requires("governance", "admin", read_only=True))]
# A midwife always has her site (``create_user`` refuses one without): ``user.site_id``.
MidwifeAtSite = Annotated[User, Depends(requires("midwife"))]
# Participants' consent: a midwife on her own site's, a data manager on anyone's.
MidwifeOrDataManager = Annotated[User, Depends(requires("midwife", "data_manager"))]


async def posted_form(request: Request) -> FormData:
    """The fields of a posted form whose names the page only knows at run time (an
    instrument's), read once and shared with the CSRF check."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]
