"""Browser sessions and their CSRF tokens.

The signed cookie holds a random session id, when the session began and when it was last
used. A signed-in session also has a row (``WebSession``) holding the SHA-256 of that id:
signing out deletes the row, so every copy of the cookie dies with it. A session ends
after ``IDLE_TIMEOUT_S`` without a request, after ``session_max_age_s`` however busy, and
when the user's ``session_version`` moves past the one it began under (password change,
disable, token change). Finding the user is one lookup by primary key and never writes,
so read-only pages can check it in a read-only transaction: the last-used time lives in
the cookie, refreshed on a response at most once a minute (``refreshed_cookie``).

Anonymous visitors get a cookie-only session (no row), so the sign-in form has a CSRF
token. The CSRF token is an HMAC of the session id: a synchroniser token with no store.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, update
from sqlmodel import Session, select

from cohort.instance import Instance
from cohort.models import User, WebSession, utcnow

COOKIE = "cohort_session"
SALT = "cohort.session"
IDLE_TIMEOUT_S = 60 * 60
# How stale the cookie's last-used time may get before a response refreshes it.
REFRESH_AFTER_S = 60


@dataclass(frozen=True)
class BrowserSession:
    sid: str
    started: int
    seen: int


def _instance(request: Request) -> Instance:
    return request.app.state.instance


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(_instance(request).keys.session, salt=SALT)


def _id_hash(browser_session: BrowserSession) -> str:
    return hashlib.sha256(browser_session.sid.encode()).hexdigest()


def new_session() -> BrowserSession:
    """A fresh session id: issued on first visit and again at sign-in (no fixation)."""
    now = int(time.time())
    return BrowserSession(sid=secrets.token_urlsafe(24), started=now, seen=now)


def read(request: Request) -> BrowserSession | None:
    """The request's session if its cookie is genuine, used within the idle timeout and
    not older than the maximum age."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        found = BrowserSession(**_serializer(request).loads(raw))
    except (BadSignature, TypeError):
        return None
    now = time.time()
    max_age = _instance(request).settings.session_max_age_s
    if not all(isinstance(t, int) for t in (found.started, found.seen)):
        return None
    if now - found.started > max_age or now - found.seen > IDLE_TIMEOUT_S:
        return None
    return found


def write(response: Response, request: Request, browser_session: BrowserSession) -> None:
    settings = _instance(request).settings
    response.set_cookie(
        COOKIE,
        _serializer(request).dumps(asdict(browser_session)),
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies or request.url.scheme == "https",
        path="/",
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def begin(db: Session, request: Request, response: Response, user: User) -> None:
    """Sign this browser in under a new session id, and forget sessions past the maximum
    age so the table stays as small as the number of people signed in."""
    max_age = timedelta(seconds=_instance(request).settings.session_max_age_s)
    db.exec(delete(WebSession).where(WebSession.started_at < utcnow() - max_age))
    browser_session = new_session()
    db.add(
        WebSession(
            id_hash=_id_hash(browser_session),
            user_id=user.id,
            user_version=user.session_version,
        )
    )
    write(response, request, browser_session)


def end(db: Session, request: Request, response: Response) -> None:
    """Sign out: this session is revoked on the server, not just forgotten by the browser."""
    db.exec(delete(WebSession).where(WebSession.id_hash == _id_hash(request.state.browser_session)))
    request.state.browser_session = None
    clear(response)


def renew(_response: Response, request: Request, user: User) -> None:
    """Keep this browser signed in after the user's own change bumped her session version;
    her other sessions end."""
    current = getattr(request.state, "browser_session", None)
    db = Session.object_session(user)
    if current is None or db is None:
        return
    mine, outdated = _id_hash(current), WebSession.user_version != user.session_version
    db.exec(
        update(WebSession)
        .where(WebSession.id_hash == mine, outdated)
        .values(user_version=user.session_version)
    )
    db.exec(delete(WebSession).where(WebSession.user_id == user.id, outdated))


def signed_in_user(db: Session, browser_session: BrowserSession) -> User | None:
    """The user of a live session: one lookup by primary key, no write."""
    return db.exec(
        select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.id_hash == _id_hash(browser_session),
            WebSession.user_version == User.session_version,
            User.active,
        )
    ).first()


def refreshed_cookie(request: Request) -> str | None:
    """The ``Set-Cookie`` value moving a signed-in session's last-used time to now, when it
    has grown stale; None otherwise (and for anonymous visitors and after sign-out)."""
    current = getattr(request.state, "browser_session", None)
    now = int(time.time())
    if current is None or now - current.seen < REFRESH_AFTER_S:
        return None
    carrier = Response()
    write(carrier, request, replace(current, seen=now))
    return carrier.headers["set-cookie"]


def csrf_token(request: Request, browser_session: BrowserSession) -> str:
    key = _instance(request).keys.session
    return hmac.new(key, b"csrf|" + browser_session.sid.encode(), hashlib.sha256).hexdigest()


def csrf_matches(request: Request, browser_session: BrowserSession, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(
        csrf_token(request, browser_session), submitted or ""
    )
