"""Browser sessions and their CSRF tokens, with nothing stored on the server.

The cookie holds a random session id, the user id and her ``session_version``, signed
with the session key. Bumping ``User.session_version`` (password change, disable, token
change) ends every session carrying an older version. Anonymous visitors get a session
too (no user), so the sign-in form has a CSRF token. The CSRF token is an HMAC of the
session id: a synchroniser token that needs no server-side store.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, replace

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session

from cohort.instance import Instance
from cohort.models import User

COOKIE = "cohort_session"
SALT = "cohort.session"


@dataclass(frozen=True)
class BrowserSession:
    sid: str
    started: int
    user_id: int | None = None
    version: int | None = None


def _instance(request: Request) -> Instance:
    return request.app.state.instance


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(_instance(request).keys.session, salt=SALT)


def new_session(user: User | None = None) -> BrowserSession:
    """A fresh session id: issued on first visit and again at sign-in (no fixation)."""
    return BrowserSession(
        sid=secrets.token_urlsafe(24),
        started=int(time.time()),
        user_id=user.id if user else None,
        version=user.session_version if user else None,
    )


def read(request: Request) -> BrowserSession | None:
    """The request's session if its cookie is genuine and not older than the maximum age."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request).loads(raw)
        found = BrowserSession(**data)
    except (BadSignature, TypeError):
        return None
    max_age = _instance(request).settings.session_max_age_s
    if not isinstance(found.started, int) or time.time() - found.started > max_age:
        return None
    return found


def write(response: Response, request: Request, browser_session: BrowserSession) -> None:
    settings = _instance(request).settings
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(browser_session.__dict__),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )


def renew(response: Response, request: Request, user: User) -> None:
    """Keep this browser signed in after the user's own change bumped her session version."""
    current = getattr(request.state, "browser_session", None)
    if current is not None:
        write(response, request, replace(current, version=user.session_version))


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def signed_in_user(db: Session, browser_session: BrowserSession) -> User | None:
    if browser_session.user_id is None:
        return None
    user = db.get(User, browser_session.user_id)
    if user is None or not user.active or user.session_version != browser_session.version:
        return None
    return user


def csrf_token(request: Request, browser_session: BrowserSession) -> str:
    key = _instance(request).keys.session
    return hmac.new(key, b"csrf|" + browser_session.sid.encode(), hashlib.sha256).hexdigest()


def csrf_matches(request: Request, browser_session: BrowserSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(
        csrf_token(request, browser_session), submitted or ""
    )
