"""``cohort user``: staff accounts and their API tokens."""

import sys

import typer

from cohort.auth import passwords, tokens, users
from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.models import ROLES

user_app = typer.Typer(no_args_is_help=True, help="User commands.")
app.add_typer(user_app, name="user")


def _read_password(from_stdin: bool) -> str:
    """From standard input (scripts) or typed twice without echo; checked before any change."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    passwords.check_strength(password)
    return password


@user_app.command("add")
def add(
    username: str = typer.Argument(help="Sign-in name, such as j.smith."),
    role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}."),
    name: str = typer.Option(..., "--name", help="Full name, as colleagues know her."),
    site: str = typer.Option(None, help="Site code (midwife: required; governance: optional)."),
    project: list[str] = typer.Option([], help="Project code (researcher; repeatable)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
) -> None:
    """Add a staff account."""
    users.check_role(role)
    password = _read_password(password_stdin)
    with unit_of_work() as (_, session):
        user = users.create_user(
            session,
            username=username,
            full_name=name,
            role=role,
            password=password,
            site_code=site,
            project_codes=project,
            actor=CLI_ACTOR,
        )
    typer.echo(f"user {user.username} added ({user.role})")


@user_app.command("list")
def list_command() -> None:
    """List accounts: username, role, site or projects, status, full name."""
    with unit_of_work() as (_, session):
        rows = users.list_users(session)
    for u in rows:
        scope = u.site or ",".join(u.projects) or "-"
        status = "active" if u.active else "disabled"
        typer.echo(f"{u.username}\t{u.role}\t{scope}\t{status}\t{u.full_name}")


@user_app.command("disable")
def disable(username: str = typer.Argument(help="The account to disable.")) -> None:
    """Stop an account signing in; its sessions and API tokens stop working at once."""
    with unit_of_work() as (_, session):
        user = users.disable_user(session, username, actor=CLI_ACTOR)
    typer.echo(f"user {user.username} disabled")


@user_app.command("token")
def token(
    username: str = typer.Argument(help="The account the token acts as."),
    label: str = typer.Option(..., help="Where the token will be used."),
    redcap: bool = typer.Option(
        False, "--redcap", help="In REDCap's form (32 hex characters), for PyCap or REDCapR."
    ),
) -> None:
    """Issue an API token and print it once; only its hash is kept."""
    with unit_of_work() as (_, session):
        user = users.get_user(session, username)
        secret = tokens.issue_token(session, user, label, actor=CLI_ACTOR, redcap=redcap)
    typer.echo(secret)
