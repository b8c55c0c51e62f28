"""Doing a recording exactly once, however often it is sent.

Every consent form carries a one-time submission token (API clients send it as the
``Idempotency-Key`` header). ``once`` stores the token with what the recording produced,
in the same transaction and under a unique index: a double click, a back-and-resubmit or
a retried request finds the token and gets the first result back, and nothing is saved
twice, even when the two copies arrive at the same moment. A refusal rolls back to a
savepoint, so it leaves neither the record nor the token behind, even if the caller's
transaction goes on to commit.
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cohort.errors import CohortError, Conflict
from cohort.models import Submission, User

TOKEN = re.compile(r"[A-Za-z0-9._:-]{16,64}")
FIELD = "submission_token"

MALFORMED = (
    "the submission token must be 16 to 64 letters, digits, dots, dashes, colons or "
    "underscores, such as a UUID: reload the form, or send a fresh Idempotency-Key"
)
REUSED = (
    "this submission token was already used for something else: reload the form, or send "
    "a fresh Idempotency-Key"
)


@dataclass(frozen=True)
class Done:
    """What a recording produced (study ID and row ids only); ``replayed`` when it had
    already been done under the same token."""

    action: str
    result: dict[str, Any]
    replayed: bool = False


class _Taken(Exception):
    """The token was stored by a concurrent twin between our look-up and our insert."""


def new_token() -> str:
    """A fresh token for a form about to be shown."""
    return secrets.token_urlsafe(24)


def check_token(token: str | None, field: str = FIELD) -> str:
    """The token if well formed; ``field`` names where it came from in the refusal."""
    if not token or not TOKEN.fullmatch(token):
        raise CohortError(MALFORMED, field=field)
    return token


def find(session: Session, token: str) -> Submission | None:
    return session.exec(select(Submission).where(Submission.token == token)).first()


def _replay(previous: Submission, user: User, action: str) -> Done:
    if previous.user_id != user.id or previous.action != action:
        raise Conflict(REUSED, field=FIELD)
    return Done(previous.action, dict(previous.result), replayed=True)


def replay(session: Session, token: str, *, user: User, action: str) -> Done | None:
    """The earlier result of ``token`` for this user and action, or None if it is new."""
    previous = find(session, check_token(token))
    return None if previous is None else _replay(previous, user, action)


def _claim(session: Session, submission: Submission) -> None:
    session.add(submission)
    try:
        session.flush()
    except IntegrityError:
        raise _Taken from None


def once(
    session: Session,
    token: str,
    *,
    user: User,
    action: str,
    record: Callable[[], dict[str, Any]],
) -> Done:
    """Run ``record`` unless ``token`` was used before; store its result under the token."""
    earlier = replay(session, token, user=user, action=action)
    if earlier is not None:
        return earlier
    submission = Submission(token=token, action=action, user_id=user.id, result={})
    try:
        with session.begin_nested():
            _claim(session, submission)
            submission.result = record()
    except _Taken:
        return _replay(find(session, token), user, action)
    return Done(action, dict(submission.result))
