"""The area-deprivation lookup: English IMD 2019 deciles by postcode, loaded by an operator
(``cohort governance imd load``), and the one rule that turns a postcode into a decile.

The file is a CSV with a header: a postcode column (``postcode`` or the ONS Postcode
Directory's ``pcds``) and a decile column (``imd_decile``, 1 most deprived to 10 least).
A postcode is spelt as the consent form spells it (``forms.validation.postcode``), so a
lookup's ``bd1 1aa`` meets a woman's ``BD1 1AA``. A load replaces the whole lookup, or
refuses the file and changes nothing, naming the first bad row and column. A lookup of
postcodes to a published area statistic identifies no one: it lives in the consent
database, and only the decile is ever copied onto a consent or a birth count."""

import csv
import hashlib
import io
from pathlib import Path

from sqlalchemy import delete, insert
from sqlmodel import Session, select

from cohort.errors import CohortError
from cohort.models import ImdLookup, ImdPostcode
from forms.validation import Invalid, postcode

POSTCODE_COLUMNS = ("postcode", "pcds")
DECILE_COLUMN = "imd_decile"
DECILES = range(1, 11)
BATCH = 5_000


def normal(raw: str) -> str | None:
    """The postcode as the lookup keys it; None for text that is no UK postcode."""
    try:
        return postcode(raw.strip())
    except Invalid:
        return None


def _column(header: list[str], names: tuple[str, ...], file_name: str) -> int:
    lowered = [name.strip().lower() for name in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    raise CohortError(
        f"{file_name}: the header has no {' or '.join(names)} column "
        f"(it has {', '.join(header) or 'nothing'}); nothing was loaded",
        field=names[0],
    )


def parse(text: str, file_name: str) -> dict[str, int]:
    """Postcode -> decile from the CSV text; refuses the file at its first bad row."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    at_postcode = _column(header, POSTCODE_COLUMNS, file_name)
    at_decile = _column(header, (DECILE_COLUMN,), file_name)
    deciles: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        raw = row[at_postcode] if at_postcode < len(row) else ""
        code = normal(raw)
        if code is None:
            raise _bad(file_name, line, header[at_postcode], f"{raw!r} is no UK postcode")
        value = (row[at_decile] if at_decile < len(row) else "").strip()
        if not value.isdigit() or int(value) not in DECILES:
            raise _bad(file_name, line, header[at_decile], f"{value!r} is no decile 1 to 10")
        if deciles.setdefault(code, int(value)) != int(value):
            raise _bad(file_name, line, header[at_postcode], f"{code} is listed twice")
    if not deciles:
        raise CohortError(f"{file_name}: no postcodes in the file; nothing was loaded")
    return deciles


def _bad(file_name: str, line: int, column: str, why: str) -> CohortError:
    return CohortError(
        f"{file_name}: line {line}, column {column}: {why}; nothing was loaded", field=column
    )


def load(session: Session, path: Path, *, actor: str) -> ImdLookup:
    """Replace the lookup with the file's, in the caller's transaction."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CohortError(f"{path.name}: not UTF-8 text; nothing was loaded") from None
    deciles = parse(text, path.name)
    session.exec(delete(ImdPostcode))
    rows = [{"postcode": code, "decile": decile} for code, decile in deciles.items()]
    for start in range(0, len(rows), BATCH):
        session.exec(insert(ImdPostcode), params=rows[start : start + BATCH])
    loaded = ImdLookup(
        file_name=path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=len(rows),
        loaded_by=actor,
    )
    session.add(loaded)
    session.flush()
    return loaded


def current(session: Session) -> ImdLookup | None:
    """The lookup in force (the latest load); None while none is loaded."""
    return session.exec(select(ImdLookup).order_by(ImdLookup.id.desc()).limit(1)).first()


def decile_of(session: Session, raw_postcode: str | None) -> int | None:
    """Her area's decile; None with no lookup loaded or a postcode it does not list."""
    code = normal(raw_postcode or "")
    found = None if code is None else session.get(ImdPostcode, code)
    return None if found is None else found.decile


def deciles(session: Session) -> dict[str, int]:
    """The whole lookup, for counting a file's births by decile in one pass."""
    return dict(session.exec(select(ImdPostcode.postcode, ImdPostcode.decile)).all())
