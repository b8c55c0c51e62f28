"""Per-user API tokens for machine clients (``Authorization: Bearer <token>``).

Only the SHA-256 of a token is stored: tokens are 256 random bits, so a fast hash is
enough, and a leaked table gives nobody a usable token. The token itself is shown once.
Issuing or revoking one bumps the owner's session version, ending her other sessions.
A REDCap-form token (32 upper-case hex characters, 128 random bits) is offered for REDCap
clients, which check that form before sending it; it is stored the same way.
"""

import hashlib
import secrets

from sqlmodel import Session, select

from cohort import audit
from cohort.errors import CohortError, NotFound
from cohort.i18n import refusal
from cohort.models import ApiToken, User, utcnow
from forms.i18n import N_

PREFIX = "cohort_"
REDCAP_BYTES = 16  # REDCap's form: 32 upper-case hex characters
LABEL_MAX = 100

# Refusals, marked so a page shows them in the UI language; values stay out of the text.
NO_LABEL = N_("give the token a label saying where it will be used")
LABEL_TOO_LONG = N_("the label must be at most %(max)s characters")
USER_DISABLED = N_("user %(username)s is disabled")
NO_SUCH_TOKEN = N_("you have no working API token number %(number)s")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_label(label: str) -> str:
    normal = " ".join(label.split())
    if not normal:
        raise CohortError(NO_LABEL, field="label")
    if len(normal) > LABEL_MAX:
        raise refusal(CohortError, LABEL_TOO_LONG, field="label", max=LABEL_MAX)
    return normal


def _new_token(redcap: bool) -> str:
    return secrets.token_hex(REDCAP_BYTES).upper() if redcap else PREFIX + secrets.token_urlsafe(32)


def issue_token(
    session: Session, user: User, label: str, actor: str, *, redcap: bool = False
) -> str:
    """Create a token for ``user`` and return it; this is the only time it is visible.
    ``redcap``: in REDCap's form, for PyCap, REDCapR and other REDCap clients."""
    clean = _check_label(label)
    if not user.active:
        raise refusal(CohortError, USER_DISABLED, field="username", username=user.username)
    token = _new_token(redcap)
    row = ApiToken(user_id=user.id, label=clean, token_hash=_digest(token))
    session.add(row)
    user.session_version += 1
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.issue",
        detail={"username": user.username, "label": clean, "token": row.id},
    )
    return token


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens that still work, oldest first."""
    return list(
        session.exec(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.id)
        ).all()
    )


def revoke_token(session: Session, user: User, token_id: int, actor: str) -> ApiToken:
    row = session.exec(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        raise refusal(NotFound, NO_SUCH_TOKEN, field="token", number=token_id)
    row.revoked_at = utcnow()
    user.session_version += 1
    session.add_all([row, user])
    audit.record(
        session,
        actor=actor,
        action="token.revoke",
        detail={"username": user.username, "label": row.label, "token": row.id},
    )
    return row


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a presented token belongs to, or None if it is unknown or revoked."""
    return session.exec(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), User.active)
    ).first()
