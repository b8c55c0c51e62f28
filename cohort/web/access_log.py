"""One line per request for operators: the method, the route it matched as its template
(``/fhir/Consent/{consent_id}``), the status and the server time. Never the address as
sent: its path and query can carry identifiers (a FHIR search by NHS number, a study ID),
and logs leave the identity zone. So uvicorn's own access log is off under
``cohort serve``, and ``server_log_config`` sends the platform's loggers where uvicorn's go."""

import copy
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import LOGGING_CONFIG

log = logging.getLogger("cohort.access")
UNMATCHED = "(no route)"  # the address as sent may be anything: it is not written


def route_of(scope: Scope) -> str:
    """The matched route's template under the router prefix it was included with
    (``/api/v1`` + ``/consents/{study_id}``), or a mount's prefix (static files): never
    the path as sent. The prefix is the path's leading segments, which are literal: the
    template's segments match the rest one for one (no route takes a ``:path``)."""
    mounted = scope.get("root_path", "")
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return f"{mounted}/…" if mounted else UNMATCHED
    segments = scope["path"].split("/")
    prefix = "/".join(segments[: len(segments) - len(template.split("/")) + 1])
    return mounted + prefix + template


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # unless a response starts

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            elapsed_ms = (time.perf_counter() - start) * 1000
            log.info("%s %s %s %.1f ms", scope["method"], route_of(scope), status, elapsed_ms)


def server_log_config() -> dict:
    """uvicorn's logging, with the platform's loggers (``cohort.*``) on its console
    handler at INFO, so the access lines and refusals logged by the app are seen."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["cohort"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
