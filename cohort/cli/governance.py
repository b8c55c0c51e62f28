"""``cohort governance``: the dashboard's upkeep from the command line."""

from pathlib import Path
from typing import Annotated

import typer

from cohort import audit, imd, imd_backfill
from cohort.cli.common import CLI_ACTOR, app, unit_of_work
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


imd_app = typer.Typer(no_args_is_help=True, help="The area-deprivation (IMD) lookup.")
governance_app.add_typer(imd_app, name="imd")


@imd_app.command("load")
def load_imd(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Replace the postcode-to-IMD-decile lookup with a CSV (a postcode or pcds column and
    an imd_decile column) and set the deciles of the women already enrolled."""
    with unit_of_work() as (inst, session):
        loaded = imd.load(session, path, actor=CLI_ACTOR)
        listed = imd_backfill.backfill(session, inst.keys)
        audit.record(
            session,
            actor=CLI_ACTOR,
            action="imd.load",
            detail={"file": loaded.file_name, "sha256": loaded.sha256, "rows": loaded.rows},
        )
    typer.echo(
        f"deprivation lookup loaded: {loaded.rows} postcodes from {loaded.file_name} "
        f"(sha256 {loaded.sha256}); {listed} enrolled women's postcodes are in it"
    )
