"""``cohort governance``: the dashboard's upkeep from the command line."""

import typer

from cohort.cli.common import app, unit_of_work
from cohort.governance import rollup

governance_app = typer.Typer(no_args_is_help=True, help="Governance dashboard commands.")
app.add_typer(governance_app, name="governance")


@governance_app.command("rollup")
def roll_up() -> None:
    """Count every closed day not yet counted for the consent-rate pages (the first run
    after an upgrade reads every consent and decline once; later runs a day at most)."""
    with unit_of_work() as (_, session):
        written = rollup.roll_up(session)
    typer.echo(f"consent-rate roll-up: {written} counts written")
