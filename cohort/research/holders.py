"""Who holds a consent item now, as SQL the consent database runs: the rule that
``consented.Member.current_items`` applies one participant at a time (her latest consent
gave the item, and her strongest withdrawal does not stop it), for a figure over every
participant at once that should not wait for the consent pass to be read into Python
(the dashboard's linkage coverage). The levels' order and what each stops are read from
``cohort.withdrawal_levels``, so the rule's data is written once; a spec holds the two
equal. Study IDs, site codes, consent items and withdrawal levels only: no identifier.

The answer comes back as Arrow tables, for counting in DuckDB, and is kept per database
until the consent zone changes (``consented.stamp``), as the pass is: on SQLite most of
its cost is reading every latest consent's JSON, which only a change makes necessary."""

import threading

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import ColumnElement, Select, Subquery, and_, case, false, func, or_, select, union
from sqlmodel import Session

from cohort.models import ChildParticipant, Consent, Participant, Site, Withdrawal
from cohort.research.consented import STAMPED, stamp
from cohort.withdrawal_levels import LEVELS

P, C, W, S = (t.__table__ for t in (Participant, Consent, Withdrawal, Site))
K = ChildParticipant.__table__
PARTICIPANT, STUDY_ID, SITE, MOTHER = "participant_id", "study_id", "site", "mother_id"
CHUNK_ROWS = 20_000
# Per database: (stamp, items, mothers, children).
_kept: dict[str, tuple[tuple, tuple[str, ...], pa.Table, pa.Table]] = {}
_reading = threading.Lock()


def _among(query: Select, column, among: Select | None) -> Select:
    return query if among is None else query.where(column.in_(among))


def _latest(among: Select | None) -> Subquery:
    """Each participant's latest consent (the highest row id: rows are only appended)."""
    query = select(C.c.participant_id, func.max(C.c.id).label("consent_id"))
    return _among(query, C.c.participant_id, among).group_by(C.c.participant_id).subquery()


def _strongest(among: Select | None) -> Subquery:
    """Each withdrawn participant's strongest level, as its place in ``LEVELS``."""
    rank = case({level.code: place for place, level in enumerate(LEVELS)}, value=W.c.level)
    query = select(W.c.participant_id, func.max(rank).label("rank"))
    return _among(query, W.c.participant_id, among).group_by(W.c.participant_id).subquery()


def _holds(item: str, strongest: Subquery) -> ColumnElement[int]:
    """1 if she holds ``item`` now, else 0 (an integer on every backend)."""
    given = func.coalesce(C.c["items"][item].as_boolean(), false())
    stopping = [place for place, level in enumerate(LEVELS) if item in level.stops]
    kept = or_(strongest.c.rank.is_(None), strongest.c.rank.not_in(stopping))
    return case((and_(given, kept), 1), else_=0)


def holding(items: tuple[str, ...], among: Select | None = None) -> Select:
    """(participant id, study ID, site code, then 1 or 0 per item, labelled with it: does
    she hold it now) for every participant with a consent (or those ``among`` selects)."""
    latest, strongest = _latest(among), _strongest(among)
    held = (_holds(item, strongest).label(item) for item in items)
    return select(P.c.id, P.c.study_id, S.c.code, *held).select_from(
        P.join(S, S.c.id == P.c.site_id)
        .join(latest, latest.c.participant_id == P.c.id)
        .join(C, C.c.id == latest.c.consent_id)
        .outerjoin(strongest, strongest.c.participant_id == P.c.id)
    )


def children(after: int = 0) -> Select:
    """(child study ID, mother's participant id) for every child met in a child source
    (or every one whose row id is above ``after``)."""
    return select(K.c.study_id, K.c.mother_id).where(K.c.id > after)


def _arrow(session: Session, query: Select, types: dict[str, pa.DataType]) -> pa.Table:
    """The answer as an Arrow table with these column names and types. Rows are taken
    from the driver's cursor as they are (plain ints and strings, no result objects) and
    turned into columns a chunk at a time, so a few hundred thousand of them never live
    as Python objects at once (the garbage collector would walk them over and over)."""
    schema = pa.schema(list(types.items()))
    batches = []
    result = session.connection().execute(query)
    try:
        while rows := result.cursor.fetchmany(CHUNK_ROWS):
            columns = zip(*rows, strict=True)
            batches.append(
                pa.record_batch(
                    [pa.array(c, kind) for c, kind in zip(columns, types.values(), strict=True)],
                    schema=schema,
                )
            )
    finally:
        result.close()
    return pa.Table.from_batches(batches, schema)


def _read(
    session: Session, items: tuple[str, ...], among: Select | None, after: int
) -> tuple[pa.Table, pa.Table]:
    """Holders (``among`` those selected, or all) and children (row id above ``after``)."""
    mothers = _arrow(
        session,
        holding(items, among),
        {PARTICIPANT: pa.int64(), STUDY_ID: pa.string(), SITE: pa.string()}
        | dict.fromkeys(items, pa.int8()),
    )
    return mothers, _arrow(session, children(after), {STUDY_ID: pa.string(), MOTHER: pa.int64()})


def _since(session: Session, before: tuple, now: tuple) -> Select | None:
    """The participants touched since ``before`` if every change since is rows added (a
    new participant, consent, withdrawal or child: the ways the consent zone grows), so
    that only they need reading again; None when a row went (read everyone again)."""
    conn = session.connection()
    for table, (was, had), (_, has) in zip(STAMPED, before[1:], now[1:], strict=True):
        added = conn.execute(
            select(func.count()).select_from(table).where(table.c.id > (was or 0))
        ).scalar()
        if has - had != added:
            return None
    mark = {table: was or 0 for table, (was, _) in zip(STAMPED, before[1:], strict=True)}
    return union(
        select(P.c.id).where(P.c.id > mark[P]),
        select(C.c.participant_id).where(C.c.id > mark[C]),
        select(W.c.participant_id).where(W.c.id > mark[W]),
    )


def current(session: Session, items: tuple[str, ...]) -> tuple[pa.Table, pa.Table]:
    """(mothers, children) as they stand now. ``mothers``: ``participant_id``,
    ``study_id``, ``site`` (its code) and an int8 column per item, 1 if she holds it;
    ``children``: ``study_id`` (the child's) and ``mother_id``. Shared: read-only.

    After a change, only the participants it touched are read again and their rows
    replaced, when the change only added rows (as recording does)."""
    now = stamp(session)  # also takes the session's connection before the lock below
    if (hit := _hit(now, items)) is not None:
        return hit
    with _reading:  # one reader at a time: a request waits for the server's warm-up
        if (hit := _hit(now, items)) is not None:
            return hit
        return _refresh(session, items, now, _kept.get(now[0]))


def _hit(now: tuple, items: tuple[str, ...]) -> tuple[pa.Table, pa.Table] | None:
    held = _kept.get(now[0])
    return (held[2], held[3]) if held is not None and held[:2] == (now, items) else None


def _refresh(
    session: Session, items: tuple[str, ...], now: tuple, held: tuple | None
) -> tuple[pa.Table, pa.Table]:
    touched = _since(session, held[0], now) if held is not None and held[1] == items else None
    if touched is None:
        mothers, kids = _read(session, items, None, 0)
    else:
        fresh, born = _read(session, items, touched, held[0][-1][0] or 0)
        gone = pc.is_in(held[2].column(PARTICIPANT), value_set=fresh.column(PARTICIPANT))
        mothers = pa.concat_tables([held[2].filter(pc.invert(gone)), fresh]).combine_chunks()
        kids = pa.concat_tables([held[3], born]).combine_chunks()
    _kept[now[0]] = (now, items, mothers, kids)
    return mothers, kids
