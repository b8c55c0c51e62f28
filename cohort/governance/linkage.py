"""Linkage coverage per partner source, in two kinds of column:

- participants, as they stand now: those whose consent, withdrawals applied, gives the
  item covering the source today (``linkage_jobs.coverage.covering_item``, by the SQL of
  ``cohort.research.holders``), and how many of them the source has linked: a row of
  hers in the source's table of the research store, or for a child source a row of one
  of her children (child rows are keyed by the child's study ID). Per site: a site's
  view counts its own participants only. The share of consented participants linked is
  linked / consented.
- the period's runs, network-wide (a partner file covers every site): runs started in the
  period and how they ended, partner rows read and linked, the share of rows linked, and
  the clerical queue each source has waiting now.

Every configured source has a row, and so does any other source that ran in the period or
has pairs waiting. Until linkage has run at all, the table holds only its total row and
nothing about participants is read: the page says it appears once linkage has run.
"""

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cohort.db import read_scope
from cohort.governance.filters import Filters
from cohort.governance.reach import Reach
from cohort.governance.tables import Derived, Table
from cohort.models import ClericalPair, LinkageRun, Site
from cohort.research import holders
from cohort.research.disclosure import rate
from forms.i18n import N_
from linkage_jobs.coverage import covering_item
from linkage_jobs.spec import SourceSpec, load_specs
from linkage_jobs.store import connect, linked_tables, source_table

log = logging.getLogger(__name__)
R, Q = LinkageRun.__table__, ClericalPair.__table__
TOTAL = N_("Total")
ENDINGS = ("succeeded", "quarantined", "failed")
COLUMNS = (
    N_("Source"),
    N_("Consented participants"),  # 0: consent covers the source now
    N_("Consented participants linked"),  # 1: of them, with a linked row
    N_("Runs"),  # 2
    N_("Succeeded"),  # 3
    N_("Quarantined"),  # 4
    N_("Failed"),  # 5
    N_("Rows read"),  # 6
    N_("Rows linked"),  # 7
    N_("Awaiting clerical review"),  # 8
)
PARTICIPANTS_LINKED = Derived(
    N_("Share of consented participants linked"),
    lambda row, total: rate(row[1], row[0]),
    N_("No consented participants"),
)
ROWS_LINKED = Derived(
    N_("Share of rows linked"), lambda row, total: rate(row[7], row[6]), N_("No rows read")
)


def any_runs(session: Session) -> bool:
    return session.connection().execute(select(R.c.id).limit(1)).first() is not None


def _site_code(session: Session, filters: Filters, reach: Reach) -> str | None:
    """Whose participants are counted: a site lead's own site's, whatever the filter says;
    otherwise the site picked, or every site."""
    if reach.site_id is not None:
        own = session.get(Site, reach.site_id)
        return own.code if own else ""  # a site that is gone: nobody
    return filters.site.code if filters.site else None


def _counted(subject: str, item: str, table: str | None) -> str:
    """DuckDB: (holders of ``item`` at the site asked for, of them linked), over the
    consent zone's ``mothers`` and ``children`` and the source's ``table`` (None: none)."""
    held = f'"{item}" = 1'  # an item code (``COVERING_ITEM``), never user input
    linked = table or "(SELECT NULL::VARCHAR AS study_id LIMIT 0)"
    if subject == "mother":
        whose = f"study_id IN (SELECT study_id FROM {linked})"  # noqa: S608  (a quoted name)
    else:  # a child's rows are under her own study ID: her mother counts once
        kids = f"SELECT c.mother_id FROM children c JOIN {linked} t USING (study_id)"  # noqa: S608
        whose = f"participant_id IN ({kids})"
    return (
        f"SELECT count(*) FILTER (WHERE {held}), count(*) FILTER (WHERE {held} AND {whose}) "  # noqa: S608
        "FROM mothers WHERE $site IS NULL OR site = $site"
    )


@contextmanager
def _counting(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The research store's connection, or an empty in-memory one before it exists."""
    if path.exists():
        with connect(path) as con:
            yield con
        return
    con = duckdb.connect()
    try:
        yield con
    finally:
        con.close()


def participants(
    session: Session,
    store: Path,
    specs: dict[str, SourceSpec],
    sources: list[str],
    site: str | None,
) -> dict[str, tuple[int, int]]:
    """Per source: (consented participants its covering item holds now, how many of them
    it has linked), at ``site`` (a code; None: every site). A source with no spec has no
    covering item: (0, 0).

    Counted by DuckDB beside the source tables: who holds each item now comes from the
    consent database's SQL (``holders.current``), handed to the store's connection as
    in-memory Arrow views for the count and unregistered after it (nothing is written to
    the store, and nothing of the store goes back to the consent database)."""
    covered = {name: specs[name] for name in sources if name in specs}
    mothers, kids = holders.current(session, covering_items(covered.values()))
    found = dict.fromkeys(sources, (0, 0))
    with _counting(store) as con:
        con.execute("SET enable_progress_bar = false")  # a server has no terminal to draw on
        tables = linked_tables(con)
        con.register("mothers", mothers)
        con.register("children", kids)
        try:
            for name, spec in covered.items():
                table = source_table(name) if name in tables else None
                sql = _counted(spec.subject, covering_item(spec), table)
                held, reached = con.execute(sql, {"site": site}).fetchall()[0]
                found[name] = (held, reached)
        finally:
            con.unregister("mothers")
            con.unregister("children")
    return found


def covering_items(specs: Iterable[SourceSpec]) -> tuple[str, ...]:
    return tuple(sorted({covering_item(spec) for spec in specs}))


def warm(engine: Engine) -> tuple | None:
    """Read who holds each covering item now, once, so that the first dashboard request
    after the server starts finds it kept instead of waiting for it (3 to 4 s over
    400,000 participants): the tables kept, or None before linkage has run, when the
    page reads nothing either."""
    with read_scope(engine) as session:
        if not any_runs(session):
            return None
        return holders.current(session, covering_items(load_specs().values()))


def warm_in_background(engine: Engine) -> threading.Thread:
    """``warm`` beside the server's start, never in its way: a failure is one log line
    (the page reads the table itself then)."""

    def run() -> None:
        try:
            warm(engine)
        except Exception as error:  # a warm-up must not take the server down
            log.warning("linkage coverage not read ahead: %s", type(error).__name__)

    thread = threading.Thread(target=run, name="coverage-warm-up", daemon=True)
    thread.start()
    return thread


def coverage(session: Session, filters: Filters, reach: Reach, store: Path) -> Table:
    """``store``: the research store (``settings.research_store_path``)."""
    rows: list[tuple[str, tuple[int, ...]]] = []
    if any_runs(session):
        rows = _rows(session, filters, reach, store)
    total = tuple(sum(column) for column in zip(*(c for _, c in rows), strict=True))
    return Table(
        "linkage-coverage",
        N_("Linkage by partner source"),
        COLUMNS,
        (*rows, (TOTAL, total or (0,) * (len(COLUMNS) - 1))),
        derived=(PARTICIPANTS_LINKED, ROWS_LINKED),
        total_row=True,
    )


def _rows(
    session: Session, filters: Filters, reach: Reach, store: Path
) -> list[tuple[str, tuple[int, ...]]]:
    ended = [func.sum(case((R.c.outcome == outcome, 1), else_=0)) for outcome in ENDINGS]
    runs = session.connection().execute(
        select(
            R.c.source, func.count(), *ended, func.sum(R.c.rows_read), func.sum(R.c.rows_written)
        )
        .where(R.c.started_at >= filters.start_at, R.c.started_at < filters.end_before)
        .group_by(R.c.source)
    )
    found = {source: [int(n or 0) for n in counts] for source, *counts in runs}
    waiting = dict(
        session.connection()
        .execute(
            select(Q.c.source, func.count()).where(Q.c.decision == "pending").group_by(Q.c.source)
        )
        .all()
    )
    specs = load_specs()
    sources = sorted(specs.keys() | found.keys() | waiting.keys())
    people = participants(session, store, specs, sources, _site_code(session, filters, reach))
    return [
        (source, (*people[source], *found.get(source, [0] * 6), waiting.get(source, 0)))
        for source in sources
    ]
