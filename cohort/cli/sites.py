"""``cohort site``: the sites of the network."""

import typer

from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.sites import add_site, list_sites

site_app = typer.Typer(no_args_is_help=True, help="Site commands.")
app.add_typer(site_app, name="site")


@site_app.command("add")
def add(
    code: str = typer.Argument(help="Short code staff recognise, such as BRADFORD."),
    name: str = typer.Argument(help="The trust or hospital's name."),
) -> None:
    """Add a site to the network."""
    with unit_of_work() as (_, session):
        site = add_site(session, code, name, actor=CLI_ACTOR)
    typer.echo(f"site {site.code} added: {site.name}")


@site_app.command("list")
def list_command() -> None:
    """List the sites, one per line: code, then name."""
    with unit_of_work() as (_, session):
        for site in list_sites(session):
            typer.echo(f"{site.code}\t{site.name}")
