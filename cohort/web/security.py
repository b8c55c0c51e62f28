"""Security headers on every response, and the per-request nonce the page template's one
inline script needs (the CSP allows no other inline script). A signed-in session's cookie
is refreshed here too, on whatever response a request gets (``sessions.refreshed_cookie``).

Everything loads from this site only. The design system's Frutiger webfonts live on an
NHS server; the CSP blocks them, so pages fall back to Arial at once instead of waiting
(invisibly) on networks that cannot reach it."""

import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cohort.web import sessions

STATIC_PREFIX = "/static/"


def content_security_policy(nonce: str | None) -> str:
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def security_headers(nonce: str | None, path: str) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"  # pages may show identities
    return headers


class SecurityHeaders:
    """Pure ASGI middleware, so static files and streamed responses get the headers too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(nonce, scope["path"]).items():
                    headers[name] = value
                if cookie := sessions.refreshed_cookie(Request(scope)):
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)
