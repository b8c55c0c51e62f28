"""``cohort forms``: publish, export and list instrument versions (REDCap dictionaries)."""

import sys
from pathlib import Path

import typer

from cohort import consent_instrument
from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.errors import CohortError
from forms import dictionary, registry

forms_app = typer.Typer(no_args_is_help=True, help="Instrument (form) commands.")
app.add_typer(forms_app, name="forms")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CohortError(f"cannot read {path} ({exc.strerror})") from None


@forms_app.command("import")
def import_command(
    file: Path = typer.Argument(help="A REDCap data dictionary, saved as CSV UTF-8."),
    version: str = typer.Option(..., help="The version it becomes, such as 1.1."),
) -> None:
    """Publish a dictionary as a new version of its form; refused whole if malformed."""
    text = dictionary.decode(_read(file))
    with unit_of_work() as (_, session):
        instrument = consent_instrument.publish(session, text, version=version, actor=CLI_ACTOR)
    typer.echo(
        f"{instrument.name} version {instrument.version} published "
        f"{instrument.published_at:%Y-%m-%d %H:%M} by {instrument.published_by} "
        f"(sha256 {instrument.sha256[:12]})"
    )


@forms_app.command("export")
def export_command(
    name: str = typer.Argument(help="The form name, such as babi_consent."),
    version: str = typer.Option(None, help="A published version (default: the current one)."),
    out: Path = typer.Option(None, help="File to write (default: standard output)."),
) -> None:
    """Write a published dictionary exactly as it was uploaded."""
    with unit_of_work() as (_, session):
        data = registry.export(session, name, version).encode()
    if out is None:
        sys.stdout.buffer.write(data)
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CohortError(f"--out: cannot write {out} ({exc.strerror})") from None


@forms_app.command("list")
def list_command() -> None:
    """List published versions: form, version, when, by whom, and which is current."""
    with unit_of_work() as (_, session):
        rows = registry.versions(session)
    current = {row.name: row.id for row in rows}  # oldest first: the last one wins
    for row in rows:
        when = f"{row.published_at:%Y-%m-%d %H:%M}"
        mark = "\tcurrent" if current[row.name] == row.id else ""
        typer.echo(f"{row.name}\t{row.version}\t{when}\t{row.published_by}{mark}")
