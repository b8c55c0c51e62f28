"""``cohort forms``: publish, export and list instrument versions (REDCap dictionaries),
and their translations uploaded at run time (``cohort forms translations``)."""

import sys
from pathlib import Path

import typer

from cohort import consent_instrument
from cohort.cli.common import CLI_ACTOR, app, unit_of_work
from cohort.errors import CohortError
from forms import dictionary, registry, uploaded_translations

forms_app = typer.Typer(no_args_is_help=True, help="Instrument (form) commands.")
app.add_typer(forms_app, name="forms")
translations_app = typer.Typer(
    no_args_is_help=True, help="Translations of a form version the catalogs do not hold."
)
forms_app.add_typer(translations_app, name="translations")


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


def _write(data: bytes, out: Path | None) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise CohortError(f"--out: cannot write {out} ({exc.strerror})") from None


NAME = typer.Argument(help="The form name, such as babi_consent.")
VERSION = typer.Option(None, help="A published version (default: the current one).")
OUT = typer.Option(None, help="File to write (default: standard output).")


@forms_app.command("export")
def export_command(name: str = NAME, version: str = VERSION, out: Path = OUT) -> None:
    """Write a published dictionary exactly as it was uploaded."""
    with unit_of_work() as (_, session):
        data = registry.export(session, name, version).encode()
    _write(data, out)


@translations_app.command("template")
def translations_template_command(
    name: str = NAME,
    language: str = typer.Option(..., help="A cohort language code, such as ur."),
    version: str = VERSION,
    out: Path = OUT,
) -> None:
    """Write the PO file translators fill in: every text of the version, the translations
    already known filled in, the rest empty."""
    with unit_of_work() as (_, session):
        spec = registry.get(session, name, version) if version else registry.current(session, name)
        data = uploaded_translations.template(uploaded_translations.attach(session, spec), language)
    _write(data, out)


@translations_app.command("import")
def translations_import_command(
    file: Path = typer.Argument(help="A filled-in PO file, as the template command wrote it."),
) -> None:
    """Take a version's translations in one language (the file names both); refused whole
    if any translation cannot be taken."""
    data = _read(file)
    with unit_of_work() as (_, session):
        upload = uploaded_translations.read(session, data)
        uploaded_translations.store(session, upload, CLI_ACTOR)
        spec = uploaded_translations.attach(session, upload.spec)
        done, of = uploaded_translations.coverage(spec)[upload.language]
    typer.echo(
        f"{spec.name} version {spec.version}, {upload.language}: {len(upload.entries)} "
        f"translations taken; {done} of {of} texts now translated"
    )


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
