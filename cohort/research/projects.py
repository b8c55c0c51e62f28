"""Research projects (safe projects, safe people): registered by a data manager or a
governance lead with what they are approved to see and until when; researchers added and
removed. A researcher reaches a project's data only through ``open_project``, which
refuses her once she is removed or the approval has ended. Every change is audited.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from cohort import audit
from cohort.control_characters import has_control
from cohort.errors import CohortError, Conflict, Forbidden, NotFound
from cohort.models import Project, ProjectMember, User, utcnow
from cohort.research.catalogue import datasets

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
GRANULARITIES = ("day", "month", "year")
TEXT_LIMITS = {"title": 300, "lead": 200, "approval_reference": 64}
ADMIN_ROLES = ("data_manager", "governance")


@dataclass(frozen=True)
class Approval:
    """What a registration asks for, as typed by a person (checked by ``register``)."""

    code: str
    title: str
    lead: str
    approval_reference: str
    approved_from: date
    approved_until: date
    variables: tuple[str, ...]  # "dataset.variable", or "dataset" for all its variables
    date_granularity: str = "month"
    row_level: bool = False


def _code(code: str) -> str:
    normal = code.strip().upper()
    if not CODE_PATTERN.fullmatch(normal):
        raise CohortError(
            "project code must be 2 to 32 letters, digits or dashes, such as BIB-2026-01",
            field="code",
        )
    return normal


def _text(name: str, value: str) -> str:
    normal = " ".join(value.split())
    if not normal:
        raise CohortError(f"{name.replace('_', ' ')} is missing", field=name)
    if len(normal) > TEXT_LIMITS[name]:
        raise CohortError(
            f"{name.replace('_', ' ')} must be at most {TEXT_LIMITS[name]} characters", field=name
        )
    if has_control(normal):  # NUL, escapes: never meant
        raise CohortError(
            f"{name.replace('_', ' ')} holds an invisible control character", field=name
        )
    return normal


def approved_variables(selection: Iterable[str]) -> dict[str, list[str]]:
    """``{"dataset": [variable, ...]}`` from "dataset.variable" or "dataset" items."""
    known = datasets()
    chosen: dict[str, set[str]] = {}
    for item in (s.strip() for s in selection):
        if not item:
            continue
        name, _, var = item.partition(".")
        if name not in known:
            raise CohortError(
                f"there is no dataset {name!r}; the datasets are {', '.join(known)}",
                field="variables",
            )
        if var and var not in known[name].variables:
            raise CohortError(f"dataset {name} has no variable {var!r}", field="variables")
        chosen.setdefault(name, set()).update([var] if var else known[name].variables)
    if not chosen:
        raise CohortError("approve at least one dataset or variable", field="variables")
    order = {name: list(d.variables) for name, d in known.items()}
    return {name: sorted(chosen[name], key=order[name].index) for name in order if name in chosen}


def within_approval(project: Project, selection: Iterable[str] | None) -> dict[str, list[str]]:
    """The part of the project's approval a request names ("dataset.variable", or
    "dataset" for all its approved variables), in approval order; all of it for None.
    Anything the project is not approved for is refused by name."""
    approved = project.variables
    if selection is None:
        return {name: list(names) for name, names in approved.items()}
    chosen: dict[str, set[str]] = {}
    for item in (s.strip() for s in selection):
        if not item:
            continue
        name, _, var = item.partition(".")
        if name not in approved:
            raise CohortError(
                f"project {project.code} is not approved for dataset {name!r}; "
                f"it is approved for {', '.join(approved)}",
                field="variables",
            )
        if var and var not in approved[name]:
            raise CohortError(
                f"{name}.{var} is not an approved variable of project {project.code}",
                field="variables",
            )
        chosen.setdefault(name, set()).update([var] if var else approved[name])
    if not chosen:
        raise CohortError("choose at least one approved variable", field="variables")
    return {
        name: [v for v in names if v in chosen[name]]
        for name, names in approved.items()
        if name in chosen
    }


def register(session: Session, approval: Approval, *, actor: str) -> Project:
    code = _code(approval.code)
    if approval.approved_until < approval.approved_from:
        raise CohortError(
            "the approval must end on or after the day it starts", field="approved_until"
        )
    if approval.date_granularity not in GRANULARITIES:
        raise CohortError(
            f"date granularity must be one of {', '.join(GRANULARITIES)}", field="date_granularity"
        )
    if session.exec(select(Project.id).where(Project.code == code)).first() is not None:
        raise Conflict(f"there is already a project {code}", field="code")
    project = Project(
        code=code,
        title=_text("title", approval.title),
        lead=_text("lead", approval.lead),
        approval_reference=_text("approval_reference", approval.approval_reference),
        approved_from=approval.approved_from,
        approved_until=approval.approved_until,
        variables=approved_variables(approval.variables),
        date_granularity=approval.date_granularity,
        row_level=approval.row_level,
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="project.register",
        project=code,
        detail={
            "approval_reference": project.approval_reference,
            "approved_from": project.approved_from.isoformat(),
            "approved_until": project.approved_until.isoformat(),
            "variables": project.variables,
            "date_granularity": project.date_granularity,
            "row_level": project.row_level,
        },
    )
    return project


@dataclass(frozen=True)
class Change:
    """What an edit asks to change; None leaves a field as it is."""

    approved_until: date | None = None
    variables: tuple[str, ...] | None = None  # as in ``Approval``: the new approval, whole
    date_granularity: str | None = None
    row_level: bool | None = None


def _approval_record(project: Project) -> dict:
    return {
        "approved_until": project.approved_until.isoformat() if project.approved_until else None,
        "variables": project.variables,
        "date_granularity": project.date_granularity,
        "row_level": project.row_level,
    }


def _checked(project: Project, change: Change) -> dict:
    """The changed fields' new values, checked as a registration checks them."""
    new: dict = {}
    if change.approved_until is not None:
        if project.approved_from and change.approved_until < project.approved_from:
            raise CohortError(
                f"the approval must end on or after the day it starts ({project.approved_from})",
                field="approved_until",
            )
        new["approved_until"] = change.approved_until
    if change.variables is not None:
        new["variables"] = approved_variables(change.variables)
    if change.date_granularity is not None:
        if change.date_granularity not in GRANULARITIES:
            raise CohortError(
                f"date granularity must be one of {', '.join(GRANULARITIES)}",
                field="date_granularity",
            )
        new["date_granularity"] = change.date_granularity
    if change.row_level is not None:
        new["row_level"] = change.row_level
    return {k: v for k, v in new.items() if getattr(project, k) != v}


def edit(session: Session, code: str, change: Change, *, actor: str) -> Project:
    """Change a project's approval; audited with each changed field before and after.
    Extracts already made stay as they are; later extracts and queries follow the new
    approval (they read it when they are made)."""
    project = get_project(session, code)
    new = _checked(project, change)
    if not new:
        raise CohortError(f"nothing to change: project {project.code} is already approved so")
    before = _approval_record(project)
    for name, value in new.items():
        setattr(project, name, value)
    session.add(project)
    after = _approval_record(project)
    audit.record(
        session,
        actor=actor,
        action="project.edit",
        project=project.code,
        detail={
            "before": {k: before[k] for k in new},
            "after": {k: after[k] for k in new},
        },
    )
    return project


def get_project(session: Session, code: str) -> Project:
    project = session.exec(select(Project).where(Project.code == code.strip().upper())).first()
    if project is None:
        raise NotFound(f"there is no project {code.strip()!r}", field="code")
    return project


def list_projects(session: Session) -> list[Project]:
    return list(session.exec(select(Project).order_by(Project.code)).all())


def _researcher(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(f"there is no user called {username.strip()!r}", field="username")
    if user.role != "researcher":
        raise CohortError(
            f"{user.username} is a {user.role.replace('_', ' ')}: only researchers join projects",
            field="username",
        )
    return user


def _membership(session: Session, project: Project, user: User) -> ProjectMember | None:
    return session.exec(
        select(ProjectMember).where(
            ProjectMember.project_id == project.id, ProjectMember.user_id == user.id
        )
    ).first()


def add_researcher(session: Session, code: str, username: str, *, actor: str) -> ProjectMember:
    """Put a researcher on a project (again, if she was removed)."""
    project, user = get_project(session, code), _researcher(session, username)
    member = _membership(session, project, user)
    if member is not None and member.removed_at is None:
        raise Conflict(f"{user.username} is already on project {project.code}", field="username")
    member = member or ProjectMember(project_id=project.id, user_id=user.id)
    member.added_at, member.removed_at = utcnow(), None
    session.add(member)
    audit.record(
        session,
        actor=actor,
        action="project.member_add",
        project=project.code,
        detail={"username": user.username},
    )
    return member


def remove_researcher(session: Session, code: str, username: str, *, actor: str) -> None:
    """End a researcher's access at once; the membership stays on record."""
    project, user = get_project(session, code), _researcher(session, username)
    member = _membership(session, project, user)
    if member is None or member.removed_at is not None:
        raise NotFound(f"{user.username} is not on project {project.code}", field="username")
    member.removed_at = utcnow()
    session.add(member)
    audit.record(
        session,
        actor=actor,
        action="project.member_remove",
        project=project.code,
        detail={"username": user.username},
    )


def researchers(session: Session, project: Project) -> list[tuple[User, ProjectMember]]:
    rows = session.exec(
        select(User, ProjectMember)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id)
        .order_by(User.username)
    ).all()
    return [(user, member) for user, member in rows]


def approval_open(project: Project, today: date | None = None) -> bool:
    day = today or datetime.now(UTC).date()
    return (
        project.approved_from is not None
        and project.approved_until is not None
        and project.approved_from <= day <= project.approved_until
    )


def open_project(session: Session, user: User, code: str, today: date | None = None) -> Project:
    """The project, if this researcher may use it today; refused (403) otherwise."""
    project = get_project(session, code)
    member = _membership(session, project, user)
    if member is None or member.removed_at is not None:
        raise Forbidden(f"you are not a researcher on project {code.strip()!r}")
    if not approval_open(project, today):
        raise Forbidden(
            f"project {project.code} is not approved today: its approval runs from "
            f"{project.approved_from} to {project.approved_until}"
        )
    return project


def my_projects(session: Session, user: User) -> list[Project]:
    """The projects a researcher is currently on (approved today or not)."""
    return list(
        session.exec(
            select(Project)
            .join(ProjectMember, ProjectMember.project_id == Project.id)
            .where(ProjectMember.user_id == user.id, ProjectMember.removed_at.is_(None))
            .order_by(Project.code)
        ).all()
    )
