"""``cohort audit``: check the audit chain."""

import typer

from cohort import audit as audit_chain
from cohort.cli.common import app, unit_of_work

audit_app = typer.Typer(no_args_is_help=True, help="Audit trail commands.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def verify() -> None:
    """Walk the audit chain; exit 1 naming the first altered, missing or moved event."""
    with unit_of_work() as (_, session):
        verdict = audit_chain.verify(session)
    typer.echo(str(verdict), err=not verdict.ok)
    if not verdict.ok:
        raise typer.Exit(1)
