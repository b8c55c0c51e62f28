"""Published instrument versions: each a data dictionary kept exactly as uploaded.

A version is named by whoever publishes it (REDCap dictionaries carry none) and never
changes afterwards: publishing the same text again is a no-op, different text under a used
version is refused. Old versions stay loadable, so a record keeps the meaning of the
version it was taken under. The current version of a form is the one published last.
"""

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cohort import audit
from cohort.errors import CohortError, Conflict, NotFound
from cohort.models import Instrument
from forms import dictionary
from forms.branching import quote
from forms.spec import FormSpec

VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,15}")
INSTRUMENTS = Path(__file__).parent / "instruments"
DEFAULT = ("babi_consent", "1.0")  # shipped, installed by `cohort init`
INSTALLER = "system"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _find(session: Session, name: str, version: str) -> Instrument | None:
    return session.exec(
        select(Instrument).where(Instrument.name == name, Instrument.version == version)
    ).first()


def _store(
    session: Session,
    csv_text: str,
    version: str,
    actor: str,
    check: Callable[[FormSpec], None] | None = None,
) -> tuple[Instrument, bool]:
    """(the version, whether it is new): parsed first, and ``check``-ed, so nothing
    malformed or refused is stored."""
    if not VERSION.fullmatch(version):
        raise CohortError(
            f"version {quote(version)} must be 1 to 16 letters, digits, dots, dashes "
            "or underscores, starting with a letter or digit, like 1.1",
            field="version",
        )
    spec = dictionary.parse(csv_text, version=version)
    if check is not None:
        check(spec)
    digest = _sha256(csv_text)
    existing = _find(session, spec.name, version)
    if existing is not None:
        if existing.sha256 != digest:
            raise Conflict(
                f"{spec.name} version {version} is already published with different content: "
                "publish the change as a new version",
                field="version",
            )
        return existing, False
    instrument = Instrument(
        name=spec.name, version=version, dictionary=csv_text, sha256=digest, published_by=actor
    )
    session.add(instrument)
    try:
        session.flush()
    except IntegrityError:  # the same version published by someone else at the same moment
        raise Conflict(
            f"{spec.name} version {version} was published at the same moment: try again",
            field="version",
        ) from None
    return instrument, True


def publish(
    session: Session,
    csv_text: str,
    *,
    version: str,
    actor: str,
    check: Callable[[FormSpec], None] | None = None,
) -> Instrument:
    """Publish a dictionary as ``version`` of its form (audited); a repeat is a no-op.
    ``check`` may refuse the parsed form (raising) before anything is stored."""
    instrument, new = _store(session, csv_text, version, actor, check)
    if new:
        audit.record(
            session,
            actor=actor,
            action="instrument.publish",
            detail={"name": instrument.name, "version": version, "sha256": instrument.sha256},
        )
    return instrument


def shipped_text(name: str) -> str:
    """A shipped instrument's dictionary, its line ends as shipped."""
    return (INSTRUMENTS / f"{name}.csv").read_bytes().decode()


def ensure_default(session: Session) -> None:
    """Install the shipped instrument unless its form already has a version (so a newer
    one published since never stops being current). Part of setting up an instance, like
    the schema, so not an audit event: the row records who and when."""
    name, version = DEFAULT
    if session.exec(select(Instrument.id).where(Instrument.name == name)).first() is None:
        _store(session, shipped_text(name), version, INSTALLER)


@lru_cache(maxsize=32)
def _spec(csv_text: str, version: str) -> FormSpec:
    return dictionary.parse(csv_text, version=version)


def _row(session: Session, name: str, version: str | None) -> Instrument:
    query = select(Instrument).where(Instrument.name == name)
    if version is not None:
        query = query.where(Instrument.version == version)
    row = session.exec(query.order_by(Instrument.id.desc())).first()
    if row is None:
        what = f"{name} version {version}" if version else name
        raise NotFound(f"no instrument {what} is published: see 'cohort forms list'")
    return row


def get(session: Session, name: str, version: str) -> FormSpec:
    """A published version, however old."""
    row = _row(session, name, version)
    return _spec(row.dictionary, row.version)


def current(session: Session, name: str) -> FormSpec:
    """The version of ``name`` published last: the one new records are taken under."""
    row = _row(session, name, None)
    return _spec(row.dictionary, row.version)


def export(session: Session, name: str, version: str | None = None) -> str:
    """The dictionary text exactly as published (default: the current version)."""
    return _row(session, name, version).dictionary


def versions(session: Session) -> list[Instrument]:
    """Every published version, by form name, oldest first."""
    return list(session.exec(select(Instrument).order_by(Instrument.name, Instrument.id)))
