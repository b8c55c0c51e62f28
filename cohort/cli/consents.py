"""``cohort consents import``: consents recorded before the platform existed, from a CSV in
REDCap's flat record shape (an EPR extract, a spreadsheet, a REDCap export), taken row by
row through the consent capture path (``cohort.interop.backfill``).

Rows that pass are recorded; each other row is reported with its reason, which names
fields and rules, never a value. A ``consent_date`` column dates each record when she
answered (a REDCap date or date-time); without it, a record is dated at the import.
Exit code 0 when no row was rejected, 1 when some were (the rest are recorded), 2 when the
file as a whole is refused (nothing recorded).
"""

from pathlib import Path

import typer

from cohort.auth.users import get_user
from cohort.cli.common import app, unit_of_work
from cohort.errors import CohortError
from cohort.interop import backfill, redcap_formats, redcap_metadata
from cohort.sites import get_site
from forms import dictionary

consents_app = typer.Typer(no_args_is_help=True, help="Consent records.")
app.add_typer(consents_app, name="consents")

NOT_HER_SITE = "--by: {username} is not a midwife at {site}: give a midwife of that site"


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CohortError(f"cannot read {path} ({exc.strerror})") from None
    return dictionary.decode(data).lstrip("\ufeff")


@consents_app.command("import")
def import_command(
    file: Path = typer.Argument(
        help="CSV of consents, one row per woman, REDCap's columns; consent_date dates each."
    ),
    site: str = typer.Option(..., help="The site the consents were taken at (its code)."),
    form_version: str = typer.Option(..., help="The consent form version they followed."),
    by: str = typer.Option(..., help="The midwife of that site they are recorded under."),
) -> None:
    """Import earlier consents and declines; re-importing a file adds nothing twice."""
    rows = redcap_formats.read_rows(_read(file), "csv")
    with unit_of_work() as (instance, session):
        the_site = get_site(session, site)
        user = get_user(session, by)
        if user.role != "midwife" or user.site_id != the_site.id:
            raise CohortError(NOT_HER_SITE.format(username=user.username, site=the_site.code))
        project = redcap_metadata.load(session, form_version)
        report = backfill.import_rows(
            session,
            instance.keys,
            project,
            rows,
            user=user,
            site_code=the_site.code,
            source=f"cohort consents import {file.name}"[:64],
        )
    for result in report.results:
        if result.status != backfill.ACCEPTED:
            typer.echo(f"row {result.row}: {result.status}: {result.reason}".rstrip(": "))
    typer.echo(", ".join(f"{count} {status}" for status, count in report.summary().items()))
    if report.rejected:
        raise typer.Exit(1)
