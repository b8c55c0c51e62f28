"""Refusals of the REDCap and FHIR APIs in their own shapes (REDCap's ``{"error"}``, FHIR's
OperationOutcome) rather than the app's pages and ``{"detail"}`` JSON.

A route class catches the refusal, from a dependency or the handler, and rolls back the
request's transaction first: the catch is inside the dependencies' exit, so without it
the session would commit what a refused request had written.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.exceptions import HTTPException

from cohort.errors import CohortError
from cohort.web.deps import DbSession

Render = Callable[[Request, int, str], Response]


def _held_session(request: Request, db: DbSession) -> Session:
    request.state.interop_session = db
    return db


InteropSession = Annotated[Session, Depends(_held_session)]


def _roll_back(request: Request) -> None:
    session = getattr(request.state, "interop_session", None)
    if session is not None:
        session.rollback()


def shaped_route(render: Render) -> type[APIRoute]:
    """A route class answering every refusal with ``render(request, status, message)``."""

    class ShapedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except CohortError as exc:
                    _roll_back(request)
                    return render(request, exc.status_code, exc.message)
                except HTTPException as exc:  # the form parser's own refusals
                    _roll_back(request)
                    return render(request, exc.status_code, str(exc.detail))
                except RequestValidationError as exc:
                    first = exc.errors()[0] if exc.errors() else {}
                    where = str(first.get("loc", ("", "request"))[-1])
                    return render(request, 400, f"{where}: {first.get('msg', 'is not valid')}")

            return guarded

    return ShapedRoute
