"""``cohort projects``: register research projects, change their approval and put
researchers on them; make, re-run and list extracts and ask aggregate questions for a
researcher (``--as``), who is held to the project as on the web (on it, approved today)."""

from datetime import date

import typer
from sqlmodel import Session, select

from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.errors import CohortError, NotFound
from cohort.models import User
from cohort.research import extracts, projects, queries, query_table

projects_app = typer.Typer(no_args_is_help=True, help="Research project commands.")
app.add_typer(projects_app, name="projects")


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CohortError(f"--{name} must be a date written YYYY-MM-DD, not {value!r}") from None


@projects_app.command("register")
def register(
    code: str = typer.Argument(help="Short code, such as BIB-2026-01."),
    title: str = typer.Option(..., help="The project's title."),
    lead: str = typer.Option(..., help="The lead researcher's name."),
    reference: str = typer.Option(..., help="The approval reference (REC, IGARD...)."),
    start: str = typer.Option(..., "--from", help="First day of the approval (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--until", help="Last day of the approval (YYYY-MM-DD)."),
    variable: list[str] = typer.Option(
        ..., help="An approved 'dataset.variable', or a 'dataset' for all of it; repeat."
    ),
    granularity: str = typer.Option("month", help="Dates as day, month or year."),
    row_level: bool = typer.Option(False, help="Row-level extracts approved (else aggregates)."),
) -> None:
    """Register an approved project."""
    approval = projects.Approval(
        code=code,
        title=title,
        lead=lead,
        approval_reference=reference,
        approved_from=_day(start, "from"),
        approved_until=_day(end, "until"),
        variables=tuple(variable),
        date_granularity=granularity,
        row_level=row_level,
    )
    with unit_of_work() as (_, session):
        project = projects.register(session, approval, actor=CLI_ACTOR)
    typer.echo(f"project {project.code} registered: {project.title}")


@projects_app.command("edit")
def edit(
    code: str,
    end: str | None = typer.Option(None, "--until", help="New last day (YYYY-MM-DD)."),
    variable: list[str] | None = typer.Option(
        None, help="The whole new approval: 'dataset.variable' or 'dataset'; repeat."
    ),
    granularity: str | None = typer.Option(None, help="Dates as day, month or year."),
    row_level: bool | None = typer.Option(
        None, "--row-level/--aggregates-only", help="Row-level extracts approved or not."
    ),
) -> None:
    """Change a project's approval; each change is audited before and after."""
    change = projects.Change(
        approved_until=_day(end, "until") if end is not None else None,
        variables=tuple(variable) if variable else None,
        date_granularity=granularity,
        row_level=row_level,
    )
    with unit_of_work() as (_, session):
        project = projects.edit(session, code, change, actor=CLI_ACTOR)
    typer.echo(f"project {project.code} changed")


def _user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username.strip().lower())).first()
    if user is None:
        raise NotFound(f"there is no user called {username.strip()!r}")
    return user


AS = typer.Option(..., "--as", help="The researcher on the project it is done for.")


@projects_app.command("extract")
def extract(
    code: str,
    username: str = AS,
    variable: list[str] | None = typer.Option(
        None, help="Only this approved 'dataset.variable' or 'dataset'; repeat (default all)."
    ),
) -> None:
    """Make an extract of the project's approved data as of now."""
    with unit_of_work() as (inst, session):
        made = extracts.make_extract(
            session,
            inst.settings,
            inst.keys.pseudonym,
            _user(session, username),
            code,
            variables=variable or None,
        )
        folder = extracts.directory(inst.settings, code.strip().upper(), made.id)
    typer.echo(f"extract {made.id} made: {len(made.files) + 1} files in {folder}")


@projects_app.command("rerun")
def rerun(extract_id: int, username: str = AS) -> None:
    """Make a new extract from a saved one's definition, as of the same snapshot."""
    with unit_of_work() as (inst, session):
        made = extracts.rerun(
            session, inst.settings, inst.keys.pseudonym, _user(session, username), extract_id
        )
    typer.echo(f"extract {made.id} made from extract {extract_id}'s definition")


@projects_app.command("extracts")
def list_extracts(code: str) -> None:
    """List a project's extracts: id, snapshot, who made it, rows, and whether a full
    withdrawal since means it must be deleted and re-pulled."""
    with unit_of_work() as (_, session):
        found = extracts.listed(session, projects.get_project(session, code))
        for item in found:
            e = item.extract
            status = (
                f"delete and re-pull ({item.withdrawn} withdrawn)" if item.withdrawn else "current"
            )
            typer.echo(
                f"{e.id}\t{e.snapshot_at:%Y-%m-%dT%H:%M}\t{e.requested_by}\t{item.rows}\t{status}"
            )


def _filters(where: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in where:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CohortError(f"--where must be written variable=value, not {item!r}")
        pairs.append((name.strip(), value))
    return tuple(pairs)


@projects_app.command("query")
def query(
    code: str,
    username: str = AS,
    dataset: str = typer.Option(..., help="The approved dataset to ask about."),
    group_by: list[str] | None = typer.Option(
        None, help="An approved variable; repeat (2 at most)."
    ),
    measure: str = typer.Option("count", help="count, mean or median."),
    of: str | None = typer.Option(None, help="The numeric variable of a mean or median."),
    where: list[str] | None = typer.Option(None, help="Only rows where variable=value; repeat."),
    as_csv: bool = typer.Option(
        False, "--csv", help="Write CSV rather than a tab-separated table."
    ),
) -> None:
    """An aggregate query with disclosure control applied (counts of people)."""
    wanted = queries.Query(dataset, tuple(group_by or ()), measure, of, _filters(where or []))
    with unit_of_work() as (inst, session):
        result = queries.run(
            session, inst.settings, inst.keys.pseudonym, _user(session, username), code, wanted
        )
    typer.echo(query_table.as_csv(result) if as_csv else query_table.as_text(result), nl=False)


@projects_app.command("add-researcher")
def add_researcher(code: str, username: str) -> None:
    """Put a researcher on a project."""
    with unit_of_work() as (_, session):
        projects.add_researcher(session, code, username, actor=CLI_ACTOR)
    typer.echo(f"{username} added to project {code.upper()}")


@projects_app.command("remove-researcher")
def remove_researcher(code: str, username: str) -> None:
    """Take a researcher off a project: her access ends at once."""
    with unit_of_work() as (_, session):
        projects.remove_researcher(session, code, username, actor=CLI_ACTOR)
    typer.echo(f"{username} removed from project {code.upper()}")


@projects_app.command("list")
def list_command() -> None:
    """List projects: code, approval dates, row-level or aggregates, title."""
    with unit_of_work() as (_, session):
        for p in projects.list_projects(session):
            access = "row-level" if p.row_level else "aggregates"
            typer.echo(f"{p.code}\t{p.approved_from}..{p.approved_until}\t{access}\t{p.title}")
