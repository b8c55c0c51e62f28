"""``cohort synth``: synthetic participants as CSV, for demos, tests and partner-file drills."""

import csv
import sys
from pathlib import Path
from typing import TextIO

import typer

from cohort import synth as synthetic
from cohort.cli.common import app
from cohort.errors import CohortError

MAX_MOTHERS = 1_000_000


@app.command()
def synth(
    seed: int = typer.Option(..., help="Seed: the same seed gives the same people."),
    mothers: int = typer.Option(..., help=f"How many mothers (1 to {MAX_MOTHERS:,})."),
    out: Path = typer.Option(None, help="CSV file to write (default: standard output)."),
    imd_lookup: Path = typer.Option(
        None, help="Also write a synthetic IMD lookup of every synthetic postcode here."
    ),
) -> None:
    """Write deterministic synthetic mothers (synthetic-range NHS numbers) as CSV."""
    if not 1 <= mothers <= MAX_MOTHERS:
        raise CohortError(f"--mothers must be between 1 and {MAX_MOTHERS:,}, not {mothers}")
    if seed < 0:
        raise CohortError(f"--seed must be 0 or more, not {seed}")
    if imd_lookup is not None:
        with _opened(imd_lookup, "--imd-lookup") as f:
            synthetic.write_imd_lookup(f)
    if out is None:
        _write_csv(sys.stdout, seed, mothers)
        return
    with _opened(out, "--out") as f:
        _write_csv(f, seed, mothers)


def _opened(path: Path, option: str) -> TextIO:
    if not path.parent.is_dir():
        raise CohortError(f"{option}: folder {path.parent} does not exist")
    try:
        return path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise CohortError(f"{option}: cannot write {path} ({exc.strerror})") from None


def _write_csv(f: TextIO, seed: int, n: int) -> None:
    writer = csv.writer(f)
    writer.writerow(synthetic.FIELDS)
    for mother in synthetic.iter_mothers(seed, n):
        writer.writerow(getattr(mother, name) for name in synthetic.FIELDS)
