"""``POST /redcap/api/``: the REDCap-compatible API (``cohort.interop.redcap_api``).

Authenticated by the ``token`` field of the posted form, as REDCap is, never by a cookie
(so there is no CSRF token to check). Refusals take REDCap's error shape in the format
asked for, with REDCap's status codes. The form parser's limits are raised: REDCap clients
send thousands of record ids and multi-megabyte imports in one request.
"""

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.routing import APIRouter
from starlette.datastructures import FormData

from cohort.auth import tokens
from cohort.errors import Forbidden
from cohort.interop import redcap_api, redcap_formats
from cohort.interop.roles import REDCAP_ROLES
from cohort.models import User
from cohort.web.deps import InstanceDep, NotSignedIn, Source
from cohort.web.routes.interop_errors import InteropSession, shaped_route

MAX_FIELDS = 200_000  # thousands of records[i] and fields[i]
MAX_PART_BYTES = 64 * 1024 * 1024  # a whole file of records in the data field
NOT_SIGNED_IN = "You must provide an API token"
NO_PERMISSION = "You do not have permissions to use the API"
ROLE = "A {role}'s token cannot use the REDCap API"
TEXT = "text/plain; charset=utf-8"


async def redcap_form(request: Request) -> FormData:
    return await request.form(max_fields=MAX_FIELDS, max_part_size=MAX_PART_BYTES)


RedcapForm = Annotated[FormData, Depends(redcap_form)]


def _params(form: FormData) -> redcap_api.Params:
    return redcap_api.Params([(k, v) for k, v in form.multi_items() if isinstance(v, str)])


def redcap_caller(db: InteropSession, form: RedcapForm) -> User:
    """The owner of the posted token, if her role may use this API."""
    token = form.get("token")
    if not isinstance(token, str) or not token.strip():
        raise NotSignedIn(NOT_SIGNED_IN)
    user = tokens.user_for_token(db, token.strip())
    if user is None:
        raise Forbidden(NO_PERMISSION)
    if user.role not in REDCAP_ROLES:
        raise Forbidden(ROLE.format(role=user.role.replace("_", " ")))
    return user


redcap_caller.allowed_roles = frozenset(REDCAP_ROLES)


def _error(request: Request, status: int, message: str) -> Response:
    form = getattr(request, "_form", None)
    fmt = redcap_api.error_format(_params(form)) if form is not None else "json"
    body = redcap_formats.error_body(message, fmt)
    return Response(body, status, media_type=redcap_formats.MEDIA_TYPES[fmt])


router = APIRouter(include_in_schema=False, route_class=shaped_route(_error))


@router.post("/redcap/api/")
def redcap_api_call(
    user: Annotated[User, Depends(redcap_caller)],
    form: RedcapForm,
    db: InteropSession,
    instance: InstanceDep,
    source: Source,
) -> Response:
    call = redcap_api.Call(db, instance.keys, user, _params(form), source)
    answer = redcap_api.answer(call)
    media = TEXT if answer.fmt == redcap_api.TEXT else redcap_formats.MEDIA_TYPES[answer.fmt]
    return Response(answer.body, media_type=media)
