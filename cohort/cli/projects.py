"""``cohort projects``: register research projects and put researchers on them."""

from datetime import date

import typer

from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.errors import CohortError
from cohort.research import projects

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
