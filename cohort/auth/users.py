"""Staff accounts: creation with role rules, sign-in with lock-out, disabling.

A role's scope is table-driven: a midwife works at one site, a governance lead at one
site or (no site) the whole network, a researcher on the projects she is a member of.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import update
from sqlmodel import Session, select

from cohort import audit, sites
from cohort.auth import passwords
from cohort.config import Settings
from cohort.control_characters import has_control
from cohort.errors import CohortError, Conflict, NotFound
from cohort.i18n import Message, refusal
from cohort.models import ROLES, SITE_SCOPED_ROLES, Project, ProjectMember, Site, User, utcnow
from forms.i18n import N_

USERNAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{1,63}")
FULL_NAME_MAX = 200
SITE_OPTIONAL_ROLES = ("governance",)
PROJECT_ROLES = ("researcher",)

# Refusals, marked so a page shows them in the UI language; values stay out of the text.
LOGIN_FAILED = N_(
    "The username or password is not right, or the account is locked after too many "
    "attempts. Try again in %(minutes)s minutes or ask an administrator."
)
BAD_USERNAME = N_(
    "username must be 2 to 64 lower-case letters, digits, dots, dashes or underscores, "
    "starting with a letter"
)
NO_FULL_NAME = N_("full name is missing")
CONTROL_IN_FULL_NAME = N_("full name must not contain invisible control characters")
FULL_NAME_TOO_LONG = N_("full name must be at most %(max)s characters")
UNKNOWN_ROLE = N_("unknown role %(role)s: choose one of %(roles)s")
SITE_NEEDED = N_("a user with the role %(role)s must be given the site she works at")
NO_SITE_WANTED = N_("a user with the role %(role)s works across the network: leave the site empty")
PROJECTS_FOR_RESEARCHERS = N_("only a researcher can be a member of projects")
NO_SUCH_PROJECT = N_("no project with code %(codes)s")
NO_SUCH_USER = N_("there is no user called %(username)s")
USERNAME_TAKEN = N_("the username %(username)s is already taken")
NOT_YOURSELF = N_("you cannot disable your own account")
LAST_ADMIN = N_("the last active administrator cannot be disabled")
WRONG_CURRENT_PASSWORD = N_("your current password is not right")


class LoginFailed(CohortError):
    """One message for every refusal, so sign-in never tells which usernames exist."""

    status_code = 401

    def __init__(self, settings: Settings) -> None:
        self.text = Message(LOGIN_FAILED, {"minutes": max(1, settings.login_lockout_s // 60)})
        super().__init__(str(self.text), field="username")


@dataclass(frozen=True)
class UserSummary:
    """A user as staff screens and the API show them: codes, not database ids."""

    username: str
    full_name: str
    role: str
    site: str | None
    projects: tuple[str, ...]
    active: bool


def normalise_username(username: str) -> str:
    return username.strip().lower()


def _check_username(username: str) -> str:
    normal = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(normal):
        raise CohortError(BAD_USERNAME, field="username")
    return normal


def _check_full_name(full_name: str) -> str:
    normal = " ".join(full_name.split())
    if not normal:
        raise CohortError(NO_FULL_NAME, field="full_name")
    if has_control(normal):
        raise CohortError(CONTROL_IN_FULL_NAME, field="full_name")
    if len(normal) > FULL_NAME_MAX:
        raise refusal(CohortError, FULL_NAME_TOO_LONG, field="full_name", max=FULL_NAME_MAX)
    return normal


def check_role(role: str) -> None:
    if role not in ROLES:
        raise refusal(
            CohortError, UNKNOWN_ROLE, field="role", role=repr(role), roles=", ".join(ROLES)
        )


def _site_for_role(session: Session, role: str, site_code: str | None) -> Site | None:
    check_role(role)
    code = (site_code or "").strip()
    if not code:
        if role in SITE_SCOPED_ROLES:
            raise refusal(CohortError, SITE_NEEDED, field="site", role=role)
        return None
    if role not in SITE_SCOPED_ROLES + SITE_OPTIONAL_ROLES:
        raise refusal(CohortError, NO_SITE_WANTED, field="site", role=role)
    return sites.get_site(session, code)


def _projects_for_role(session: Session, role: str, codes: Iterable[str]) -> list[Project]:
    wanted = sorted({c.strip() for c in codes if c.strip()})
    if wanted and role not in PROJECT_ROLES:
        raise CohortError(PROJECTS_FOR_RESEARCHERS, field="projects")
    found = session.exec(select(Project).where(Project.code.in_(wanted))).all() if wanted else []
    missing = set(wanted) - {p.code for p in found}
    if missing:
        raise refusal(NotFound, NO_SUCH_PROJECT, field="projects", codes=", ".join(sorted(missing)))
    return list(found)


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == normalise_username(username))).first()
    if user is None:
        raise refusal(NotFound, NO_SUCH_USER, field="username", username=repr(username.strip()))
    return user


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: str,
    password: str,
    site_code: str | None = None,
    project_codes: Iterable[str] = (),
    actor: str,
) -> User:
    name = _check_username(username)
    full = _check_full_name(full_name)
    site = _site_for_role(session, role, site_code)
    projects = _projects_for_role(session, role, project_codes)
    passwords.check_strength(password)
    if session.exec(select(User.id).where(User.username == name)).first() is not None:
        raise refusal(Conflict, USERNAME_TAKEN, field="username", username=name)
    user = User(
        username=name,
        full_name=full,
        role=role,
        site_id=site.id if site else None,
        password_hash=passwords.hash_password(password),
    )
    session.add(user)
    session.flush()
    for project in projects:
        session.add(ProjectMember(project_id=project.id, user_id=user.id))
    audit.record(
        session,
        actor=actor,
        action="user.add",
        detail={
            "username": name,
            "role": role,
            "site": site.code if site else None,
            "projects": [p.code for p in projects],
        },
    )
    return user


def summarise(session: Session, users: Iterable[User]) -> list[UserSummary]:
    users = list(users)
    site_codes = {s.id: s.code for s in session.exec(select(Site)).all()}
    memberships = session.exec(
        select(ProjectMember.user_id, Project.code)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(ProjectMember.user_id.in_([u.id for u in users]))
        .order_by(Project.code)
    ).all()
    projects: dict[int, list[str]] = {}
    for user_id, code in memberships:
        projects.setdefault(user_id, []).append(code)
    return [
        UserSummary(
            username=u.username,
            full_name=u.full_name,
            role=u.role,
            site=site_codes.get(u.site_id) if u.site_id else None,
            projects=tuple(projects.get(u.id, ())),
            active=u.active,
        )
        for u in users
    ]


def list_users(session: Session) -> list[UserSummary]:
    return summarise(session, session.exec(select(User).order_by(User.username)).all())


def disable_user(session: Session, username: str, actor: str) -> User:
    """Stop an account signing in; its sessions and API tokens stop working at once."""
    user = get_user(session, username)
    if not user.active:
        return user
    if user.username == actor:
        raise CohortError(NOT_YOURSELF, field="username")
    if user.role == "admin":
        admins = session.exec(select(User.id).where(User.role == "admin", User.active)).all()
        if len(admins) <= 1:
            raise CohortError(LAST_ADMIN, field="username")
    user.active = False
    user.session_version += 1
    session.add(user)
    audit.record(session, actor=actor, action="user.disable", detail={"username": user.username})
    return user


def set_password(session: Session, user: User, new_password: str, actor: str) -> None:
    """Replace a password; every session signed in with the old one ends."""
    passwords.check_strength(new_password, field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, actor=actor, action="user.password", detail={"username": user.username})


def change_own_password(
    session: Session, user: User, current_password: str, new_password: str
) -> None:
    if not passwords.verify(user.password_hash, current_password):
        raise CohortError(WRONG_CURRENT_PASSWORD, field="current_password")
    set_password(session, user, new_password, actor=user.username)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _count_failure(session: Session, user: User, settings: Settings) -> None:
    """Count atomically so parallel guesses cannot slip past the limit."""
    failures = session.exec(
        update(User)
        .where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    if failures >= settings.login_max_failures:
        until = utcnow() + timedelta(seconds=settings.login_lockout_s)
        session.exec(
            update(User).where(User.id == user.id).values(failed_logins=0, locked_until=until)
        )
        audit.record(
            session,
            actor=user.username,
            action="user.locked",
            detail={"username": user.username, "until": until.isoformat()},
        )


def _refuse(
    session: Session, attempted: str, source: str | None, reason: str, settings: Settings
) -> NoReturn:
    """Record the failed attempt, commit it (the refusal must not roll it back), raise."""
    audit.record(
        session,
        actor=attempted[:64] or "-",
        action="login.failed",
        source=source,
        detail={"username": attempted[:64], "reason": reason},
    )
    session.commit()
    raise LoginFailed(settings)


def authenticate(
    session: Session, username: str, password: str, source: str | None, settings: Settings
) -> User:
    """Return the user whose password this is, or raise ``LoginFailed``.

    Every refusal takes about one argon2 verification and says the same thing, whether
    the username exists or not. Failures are committed before raising."""
    attempted = normalise_username(username)
    user = session.exec(select(User).where(User.username == attempted)).first()
    if user is None:
        passwords.spend_verify_time(password)
        _refuse(session, attempted, source, "unknown username", settings)
    matches = passwords.verify(user.password_hash, password)
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > utcnow():
        _refuse(session, attempted, source, "locked", settings)
    if not user.active:
        _refuse(session, attempted, source, "disabled", settings)
    if not matches:
        _count_failure(session, user, settings)
        _refuse(session, attempted, source, "wrong password", settings)
    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.add(user)
    audit.record(session, actor=user.username, action="login", source=source)
    return user


def record_logout(session: Session, user: User, source: str | None) -> None:
    audit.record(session, actor=user.username, action="logout", source=source)
