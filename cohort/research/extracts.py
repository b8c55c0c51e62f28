"""Extracts (safe data): a project's approved data written as files a researcher can take
away, under ``data_dir/extracts/<project>/<extract id>/``:

- ``<dataset>.parquet`` and ``<dataset>.csv`` per approved dataset (CSV text cells that a
  spreadsheet would run as a formula are neutralised);
- ``codebook.csv`` and ``codebook.md``; ``manifest.json`` (sizes, rows, SHA-256).

Files are written to a hidden folder and renamed into place, so a half-written extract is
never seen. Rows are sorted and the Parquet writer's options are fixed, so the same
definition against the same snapshot gives byte-identical files. Which participants an
extract holds is kept in the consent zone (``ExtractMember``, by participant row id), so
a later full withdrawal flags the extract for the project to delete and re-pull. Making,
downloading and deleting are audited.
"""

import io
import os
import secrets
import shutil
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, insert, select
from sqlmodel import Session

from cohort import audit
from cohort.config import Settings
from cohort.csv_cells import FORMULA_STARTS
from cohort.errors import CohortError, Forbidden, NotFound
from cohort.models import Extract, ExtractMember, Project, User, Withdrawal, utcnow
from cohort.research import coarsen, codebook, manifest, projects
from cohort.research.catalogue import CONSENT, datasets
from cohort.research.project_data import PARTICIPANT, Definition, open_views, public_columns
from cohort.withdrawal_levels import LEVELS
from forms import registry
from forms.i18n import N_

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 3, "version": "2.6"}
REMOVING_LEVELS = [level.code for level in LEVELS if not level.keeps_linked_data]
LARGEST_ID = 2**31 - 1  # PostgreSQL's integer, the extract id column's type
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # no clock time inside the zip either
WRITING = ".writing-"  # an extract being written, hidden until it is renamed into place
ABANDONED_AFTER_S = 24 * 3600  # no extract is written for a day: its writer is dead
CONSENT_FORM = "babi_consent"
DONE = {
    "extracted": N_("The extract was made: download its files below."),
    "deleted": N_("The extract was deleted."),
}


@dataclass(frozen=True)
class Listed:
    extract: Extract
    project: str
    rows: int
    withdrawn: int  # participants in it who have since withdrawn fully


def extracts_dir(settings: Settings, code: str) -> Path:
    return settings.data_dir / "extracts" / code


def directory(settings: Settings, code: str, extract_id: int) -> Path:
    return extracts_dir(settings, code) / str(extract_id)


def sweep_abandoned(place: Path) -> None:
    """Remove hidden folders left by extracts killed mid-way (an exception removes its own
    folder; a killed process cannot). Only those untouched for a day: a fresh one may be
    another process's extract still being written."""
    cutoff = time.time() - ABANDONED_AFTER_S
    for folder in place.glob(WRITING + "*"):
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _neutralised(column: str, kind: pa.DataType) -> str:
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return _q(column)
    starts = ", ".join(f"chr({ord(ch)})" for ch in FORMULA_STARTS)
    return (
        f"CASE WHEN left({_q(column)}, 1) IN ({starts}) THEN '''' || {_q(column)} "
        f"ELSE {_q(column)} END AS {_q(column)}"
    )


def _write_dataset(con, folder: Path, name: str, columns: list[str]) -> tuple[int, set[int]]:
    """Write one dataset's Parquet and CSV; return its rows and the participants in it."""
    listed = ", ".join(_q(c) for c in columns)
    table = con.sql(
        f"SELECT {listed}, {_q(PARTICIPANT)} FROM data.{_q(name)} ORDER BY {listed}"  # noqa: S608
    ).to_arrow_table()
    held = set(pc.unique(table.column(PARTICIPANT)).to_pylist())
    table = table.drop_columns([PARTICIPANT])
    pq.write_table(table, folder / f"{name}.parquet", **PARQUET_OPTIONS)
    con.register("written", table)
    cells = ", ".join(_neutralised(f.name, f.type) for f in table.schema)
    target = (folder / f"{name}.csv").as_posix().replace("'", "''")
    con.execute(f"COPY (SELECT {cells} FROM written) TO '{target}' (HEADER, DELIMITER ',')")  # noqa: S608
    con.unregister("written")
    return table.num_rows, held


def _consent_form(session: Session):
    try:
        return registry.current(session, CONSENT_FORM)
    except CohortError:
        return None


def _write_files(session, settings, key, project: Project, definition: Definition, folder):
    known = datasets()
    rows: dict[str, int] = {}
    held: set[int] = set()
    book: list[codebook.Entry] = []
    form = _consent_form(session) if CONSENT in definition.variables else None
    with open_views(session, settings.research_store_path, key, project.code, definition) as con:
        for name, variables in definition.variables.items():
            columns = public_columns(known[name], variables)
            count, people = _write_dataset(con, folder, name, columns)
            rows[f"{name}.parquet"] = rows[f"{name}.csv"] = count
            held |= people
            book += codebook.entries(known[name], variables, definition.date_granularity, form)
    (folder / "codebook.csv").write_text(codebook.as_csv(book), encoding="utf-8")
    (folder / "codebook.md").write_text(codebook.as_markdown(project.title, book), encoding="utf-8")
    names = [f"{n}.{ext}" for n in definition.variables for ext in ("parquet", "csv")]
    files = manifest.describe(folder, [*names, "codebook.csv", "codebook.md"], rows)
    manifest.write(
        folder,
        project=project.code,
        snapshot_at=definition.snapshot_at,
        definition=definition.as_json(),
        files=files,
    )
    return files, held


def _utc(at: datetime) -> datetime:
    """One spelling of a moment (a database may hand it back naive or in its zone)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def _definition(
    project: Project,
    selection: Iterable[str] | None,
    snapshot_at: datetime | None,
    granularity: str | None = None,
) -> Definition:
    """What to write: the chosen part of the approval, dates no finer than approved."""
    granularity = granularity or project.date_granularity
    if coarsen.coarser(granularity, project.date_granularity) != granularity:
        raise CohortError(
            f"project {project.code} is now approved for dates to the "
            f"{project.date_granularity}, not the {granularity}",
            field="variables",
        )
    return Definition(
        variables=projects.within_approval(project, selection),
        date_granularity=granularity,
        snapshot_at=_utc(snapshot_at or datetime.now(UTC)),
    )


def make_extract(
    session: Session,
    settings: Settings,
    pseudonym_key: bytes,
    user: User,
    code: str,
    *,
    variables: Iterable[str] | None = None,
    snapshot_at: datetime | None = None,
    granularity: str | None = None,
) -> Extract:
    """Write an extract of the project as of ``snapshot_at`` (now): the approved
    variables ``variables`` names ("dataset.variable" or "dataset"), or all of them."""
    project = projects.open_project(session, user, code)
    if not project.row_level:
        raise Forbidden(
            f"project {project.code} is approved for aggregate queries only, not extracts"
        )
    definition = _definition(project, variables, snapshot_at, granularity)
    place = extracts_dir(settings, project.code)
    place.mkdir(parents=True, exist_ok=True)
    sweep_abandoned(place)
    hidden = place / f"{WRITING}{secrets.token_hex(8)}"
    hidden.mkdir()
    try:
        files, held = _write_files(session, settings, pseudonym_key, project, definition, hidden)
        extract = Extract(
            project_id=project.id,
            requested_by=user.username,
            snapshot_at=definition.snapshot_at,
            definition=definition.as_json(),
            files=files,
        )
        session.add(extract)
        session.flush()
        final = directory(settings, project.code, extract.id)
        # A folder there was left by an extract killed after its rename but before its
        # commit, which gave the id back (SQLite reuses it): it was never listed.
        shutil.rmtree(final, ignore_errors=True)
        os.replace(hidden, final)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise
    if held:
        session.connection().execute(
            insert(ExtractMember.__table__),
            [{"extract_id": extract.id, "participant_id": pid} for pid in sorted(held)],
        )
    audit.record(
        session,
        actor=user.username,
        action="research.extract",
        project=project.code,
        detail={
            "extract": extract.id,
            "snapshot_at": definition.snapshot_at.isoformat(),
            "definition": definition.as_json(),
            "participants": len(held),
            "rows": {f["name"]: f["rows"] for f in files if f["name"].endswith(".parquet")},
        },
    )
    return extract


def rerun(
    session: Session, settings: Settings, pseudonym_key: bytes, user: User, extract_id: int
) -> Extract:
    """A new extract from a saved one's definition and snapshot: the same files, unless
    someone has withdrawn since; refused if the approval no longer covers it."""
    extract, project = open_extract(session, user, extract_id)
    saved = extract.definition
    return make_extract(
        session,
        settings,
        pseudonym_key,
        user,
        project.code,
        variables=[f"{d}.{v}" for d, names in saved["variables"].items() for v in names],
        snapshot_at=extract.snapshot_at,
        granularity=saved["date_granularity"],
    )


def _extract(session: Session, extract_id: int) -> tuple[Extract, Project]:
    if not 1 <= extract_id <= LARGEST_ID:  # beyond the column: no such extract, not a crash
        raise NotFound(f"there is no extract {extract_id}")
    extract = session.get(Extract, extract_id)
    if extract is None or extract.deleted_at is not None:
        raise NotFound(f"there is no extract {extract_id}")
    return extract, session.get(Project, extract.project_id)


def open_extract(session: Session, user: User, extract_id: int) -> tuple[Extract, Project]:
    """The extract, if this researcher may use its project today (403 otherwise)."""
    extract, project = _extract(session, extract_id)
    projects.open_project(session, user, project.code)
    return extract, project


def file_names(extract: Extract) -> list[str]:
    return [f["name"] for f in extract.files] + [manifest.NAME]


def download(
    session: Session, settings: Settings, user: User, extract_id: int, name: str
) -> tuple[str, bytes]:
    """(file name, content) of one file, or of ``extract-<id>.zip`` for ``name`` "zip"."""
    extract, project = open_extract(session, user, extract_id)
    folder = directory(settings, project.code, extract.id)
    names = file_names(extract)
    if name == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for each in names:
                info = zipfile.ZipInfo(f"{project.code}-{extract.id}/{each}", ZIP_TIME)
                archive.writestr(info, (folder / each).read_bytes(), zipfile.ZIP_DEFLATED)
        shown, body = f"{project.code}-extract-{extract.id}.zip", out.getvalue()
    elif name in names:
        shown, body = name, (folder / name).read_bytes()
    else:
        raise NotFound(f"extract {extract.id} has no file {name!r}: it has {', '.join(names)}")
    audit.record(
        session,
        actor=user.username,
        action="research.download",
        project=project.code,
        detail={"extract": extract.id, "file": shown},
    )
    return shown, body


def delete(session: Session, settings: Settings, user: User, extract_id: int) -> None:
    """Delete an extract's files (after a withdrawal, before re-pulling); kept on record."""
    extract, project = open_extract(session, user, extract_id)
    shutil.rmtree(directory(settings, project.code, extract.id), ignore_errors=True)
    extract.deleted_at = utcnow()
    session.add(extract)
    audit.record(
        session,
        actor=user.username,
        action="research.extract_delete",
        project=project.code,
        detail={"extract": extract.id},
    )


def withdrawn_counts(session: Session, extract_ids: list[int]) -> dict[int, int]:
    """Per extract: how many participants in it have since withdrawn fully."""
    if not extract_ids:
        return {}
    m, w = ExtractMember.__table__, Withdrawal.__table__
    query = (
        select(m.c.extract_id, func.count(func.distinct(m.c.participant_id)))
        .join(w, w.c.participant_id == m.c.participant_id)
        .where(m.c.extract_id.in_(extract_ids), w.c.level.in_(REMOVING_LEVELS))
        .group_by(m.c.extract_id)
    )
    return dict(session.connection().execute(query).all())


def listed(session: Session, project: Project | None = None) -> list[Listed]:
    """Extracts not deleted, newest first (all projects' when ``project`` is None): the
    project page's list and the governance dashboard's register."""
    query = select(Extract, Project.code).join(Project, Project.id == Extract.project_id)
    query = query.where(Extract.deleted_at.is_(None)).order_by(Extract.id.desc())
    if project is not None:
        query = query.where(Extract.project_id == project.id)
    rows = session.exec(query).all()
    withdrawn = withdrawn_counts(session, [e.id for e, _ in rows])
    return [
        Listed(
            e,
            code,
            sum(f["rows"] or 0 for f in e.files if f["name"].endswith(".parquet")),
            withdrawn.get(e.id, 0),
        )
        for e, code in rows
    ]
