"""``cohort audit``: check the audit chain."""

import typer

from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.governance import access

audit_app = typer.Typer(no_args_is_help=True, help="Audit trail commands.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Walk the audit chain; exit 1 naming the first altered, missing or moved event. The
    verdict is recorded in the chain, so the governance dashboard shows it."""
    with unit_of_work() as (_, session):
        verdict = access.check_chain(session, actor=CLI_ACTOR)
    typer.echo(str(verdict), err=not verdict.ok)
    if not verdict.ok:
        raise typer.Exit(1)
