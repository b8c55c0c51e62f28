"""The governance "access" page's linkage-coverage table over a linked cohort, against a
real ``cohort serve`` on SQLite and PostgreSQL, and the table alone in this process.

The coverage table is the one dashboard figure that reads both zones: who holds each
source's consent item now (the consent database) and whom each source has linked (the
research store). Its costly moment is the first load after any consent change, so each
"after a consent change" sample records a withdrawal first; "unchanged" reads it again.
Server time is the Server-Timing header, the health check measured side by side. In
process, the table after a change is timed beside the way it was counted before issue 6
(the consent pass read into Python and walked participant by participant), interleaved,
and the two are checked to give the same figures.

The world, at ``BENCH_GOVERNANCE_LINKAGE_SCALE=1`` (default 0.05, a quick run): 400,000
participants at 13 sites, each with her enrolment (5% with a later update of scope) and
3% withdrawn; 90% with a child met in a child source (3% twins); a research store with
rows from all five sources (maternity and GP registrations for most mothers, birth
notifications for most children, school census and social care for some); a year of
runs of every source and a clerical queue. Seeded in bulk (``approach_records``, the
store's own writer through ``sample_world``), not through capture or matching."""

import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.governance import PASSWORD, _server_ms, _signed_in
from bench.harness import Row, median, p99, pg_database, scale
from cohort.auth.users import create_user
from cohort.config import Settings
from cohort.db import make_engine, session_scope
from cohort.governance import approach_records, linkage, rollup
from cohort.governance.filters import Filters, default_start
from cohort.governance.reach import Reach
from cohort.instance import initialise
from cohort.models import ClericalPair, LinkageRun, Withdrawal
from cohort.research import consented, sample_world
from linkage_jobs.coverage import covering_item
from linkage_jobs.spec import load_specs
from linkage_jobs.store import connect, linked_tables, source_table
from tests.live_server import serve

SCALE = scale("governance-linkage", default=0.05)
PARTICIPANTS = int(400_000 * SCALE)
SITES = 13
RUNS = 10  # per measure
WARM_UP_S = 10  # the server reads who holds what as it starts: about 4 s at 400,000
UPDATED, WITHDRAWN, WITH_CHILD, TWINS = 0.05, 0.03, 0.90, 0.03
GIVES = {"link_mother_health": 0.92, "link_baby_health": 0.88, "link_council": 0.6}
# Who each source has linked: the share of mothers (or children) with rows, rows each.
LINKED = {
    "maternity": (0.95, 2),
    "gp_registrations": (0.90, 1),
    "birth_notifications": (0.97, 1),
    "school_census": (0.30, 1),
    "childrens_social_care": (0.05, 1),
}
CHILD_SOURCES = {"birth_notifications", "school_census", "childrens_social_care"}
COVERS = {
    "maternity": "link_mother_health",
    "gp_registrations": "link_mother_health",
    "birth_notifications": "link_baby_health",
    "school_census": "link_council",
    "childrens_social_care": "link_council",
}
LEVELS = ("no_contact", "no_data", "full")
PENDING_PAIRS = 300
NETWORK = Reach(site_id=None, midwife_names=True)


def _items(rng: random.Random) -> dict[str, bool]:
    items = {item: rng.random() < share for item, share in GIVES.items()}
    items["contact"] = rng.random() < 0.5
    return items if any(items.values()) else {**items, "contact": True}


def _sites(engine: Engine) -> tuple[list[int], int]:
    """13 sites and one midwife who recorded everything (nobody signs in as her)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for s in range(SITES):
            conn.execute(
                text("INSERT INTO site (code, name, created_at) VALUES (:c, :n, :t)"),
                {"c": f"S{s:02d}", "n": f"Site {s:02d}", "t": now},
            )
        sites = [row[0] for row in conn.execute(text("SELECT id FROM site ORDER BY id"))]
        conn.execute(
            text(
                'INSERT INTO "user" (username, full_name, role, site_id, password_hash, '
                "active, failed_logins, session_version, created_at) VALUES "
                "('mw', 'Midwife', 'midwife', :s, 'x', true, 0, 1, :t)"
            ),
            {"s": sites[0], "t": now},
        )
        midwife = conn.execute(text("SELECT id FROM \"user\" WHERE username = 'mw'")).scalar()
    return sites, midwife


def _consent_zone(engine: Engine, end: datetime) -> tuple[list[str], list[tuple[str, int]]]:
    """Participants, consents, withdrawals and children; (mothers' study IDs, (child
    study ID, mother's participant id)). Deterministic."""
    rng = random.Random(66)  # noqa: S311  (synthetic records, reproducible)
    sites, midwife = _sites(engine)
    start = end - timedelta(days=3 * 365)
    span = int((end - start).total_seconds())
    participants, consents, mothers = [], [], []
    for i in range(1, PARTICIPANTS + 1):
        at = start + timedelta(seconds=span * i // (PARTICIPANTS + 1))
        site = rng.choice(sites)
        study_id = f"BN{i:08d}"
        mothers.append(study_id)
        participants.append({"id": i, "study_id": study_id, "site_id": site, "created_at": at})
        recorded = {"site_id": site, "recorded_by": midwife, "when": at}
        consents.append(approach_records.consent(i, _items(rng), **recorded))
    for first in rng.sample(consents, int(PARTICIPANTS * UPDATED)):
        later = min(first["recorded_at"] + timedelta(days=rng.randrange(1, 300)), end)
        consents.append({**first, "items": _items(rng), "recorded_at": later})
    consents.sort(key=lambda c: c["recorded_at"])
    withdrawn = [
        {"participant_id": pid, "level": rng.choice(LEVELS), "recorded_by": midwife}
        for pid in rng.sample(range(1, PARTICIPANTS + 1), int(PARTICIPANTS * WITHDRAWN))
    ]
    kids = []
    for pid in range(1, PARTICIPANTS + 1):
        if rng.random() < WITH_CHILD:
            for twin in range(2 if rng.random() < TWINS else 1):
                kids.append((f"C{pid:08d}{twin}", pid))
    with engine.begin() as conn:
        approach_records.write(conn, "participant", participants)
        approach_records.write(conn, "consent", consents)
        conn.execute(insert(Withdrawal.__table__), withdrawn)
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('participant', 'id'), :n)"),
                {"n": PARTICIPANTS},
            )
    with session_scope(engine) as s:
        sample_world.add_children(s, kids)
    return mothers, kids


def _runs(engine: Engine, end: datetime) -> None:
    """A year of nightly runs of every source, a few that did not succeed, and a queue."""
    rng = random.Random(67)  # noqa: S311
    runs = [
        {
            "source": source,
            "file_name": f"{source}-{day}.csv",
            "file_sha256": f"{source}{day}".ljust(64, "0"),
            "started_at": end - timedelta(days=day, hours=2),
            "outcome": rng.choice(("succeeded",) * 18 + ("quarantined", "failed")),
            "rows_read": 1_000,
            "rows_written": 950,
            "rejections": [],
            "matched": {},
        }
        for source in LINKED
        for day in range(1, 366)
    ]
    with engine.begin() as conn:
        conn.execute(insert(LinkageRun.__table__), runs)
        conn.execute(
            insert(ClericalPair.__table__),
            [
                {
                    "run_id": 1 + n,
                    "source": rng.choice(list(LINKED)),
                    "record_key": f"k{n}",
                    "study_id": f"BN{1 + n:08d}",
                    "probability": 0.6,
                    "comparison": "{}",
                    "decision": "pending",
                }
                for n in range(PENDING_PAIRS)
            ],
        )


def _store(path: Path, mothers: list[str], kids: list[tuple[str, int]], at: datetime) -> int:
    """One delivery per source into the research store, by its own writer; rows written."""
    rng = random.Random(68)  # noqa: S311
    children = [study_id for study_id, _ in kids]
    written = 0
    for source, (share, rows_each) in LINKED.items():
        people = children if source in CHILD_SOURCES else mothers
        ids = [s for s in people if rng.random() < share for _ in range(rows_each)]
        written += sample_world.link(path, source, pd.DataFrame({"study_id": ids}), linked_at=at)
    return written


def _prepare(data: Path, database_url: str | None) -> tuple[Settings, int, float]:
    """The instance and its world; (settings, store rows, seconds to seed)."""
    settings = Settings(data_dir=data, database_url=database_url)
    initialise(settings)
    engine = make_engine(settings.db_url)
    start = time.perf_counter()
    try:
        with session_scope(engine) as s:
            create_user(
                s,
                username="gov",
                full_name="Governance Lead",
                role="governance",
                password=PASSWORD,
                actor="bench",
            )
        end = datetime.now(UTC)
        mothers, kids = _consent_zone(engine, end)
        _runs(engine, end)
        rows = _store(settings.research_store_path, mothers, kids, end - timedelta(days=1))
        with session_scope(engine) as s:
            rollup.roll_up(s)
        if engine.dialect.name == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM ANALYZE"
                )
    finally:
        engine.dispose()
    return settings, rows, time.perf_counter() - start


def _change(engine: Engine, rng: random.Random) -> None:
    """A consent change, as a day of recording brings: one more withdrawal."""
    with engine.begin() as conn:
        conn.execute(
            insert(Withdrawal.__table__),
            {
                "participant_id": rng.randrange(1, PARTICIPANTS + 1),
                "level": rng.choice(LEVELS),
                "recorded_by": 1,
                "recorded_at": datetime.now(UTC),
            },
        )


def _python_pass(session: Session, store: Path) -> dict[str, tuple[int, int]]:
    """Network-wide (consented, linked) per source, counted as before issue 6: the consent
    pass read into Python (``consented.members``), then participant by participant. The
    side-by-side baseline, and a check at scale that the SQL count gives the same."""
    specs = load_specs()
    everyone = consented.members(session)
    kids = {child: mother for child, mother, _ in consented.children(session)}
    holding: dict[str, set[int]] = defaultdict(set)
    for member in everyone:
        for item, given in member.current_items().items():
            if given:
                holding[item].add(member.participant_id)
    mothers = {m.study_id: m.participant_id for m in everyone}
    found = {}
    with connect(store) as con:
        tables = linked_tables(con)
        for name, spec in specs.items():
            covered = holding[covering_item(spec)]
            whose = mothers if spec.subject == "mother" else kids
            sql = f"SELECT DISTINCT study_id FROM {source_table(name)}"  # noqa: S608
            ids = [i for (i,) in con.execute(sql).fetchall()] if name in tables else []
            found[name] = (len(covered), len(covered & {whose[i] for i in ids if i in whose}))
    return found


def _in_process(settings: Settings, name: str) -> list[Row]:
    """The coverage table alone, network-wide (ms): after a change, beside the Python pass
    it replaced (interleaved, each after a change of its own), and unchanged."""
    engine = make_engine(settings.db_url)
    rng = random.Random(69)  # noqa: S311
    today = datetime.now(UTC).date()
    filters = Filters(default_start(today), today, None)
    store = settings.research_store_path
    changed, unchanged, before = [], [], []
    try:
        with Session(engine) as s:
            start = time.perf_counter()
            linkage.coverage(s, filters, NETWORK, store)  # the first: everyone is read
            first = (time.perf_counter() - start) * 1000
        for _ in range(RUNS):
            _change(engine, rng)
            for samples in (changed, unchanged):
                with Session(engine) as s:
                    start = time.perf_counter()
                    linkage.coverage(s, filters, NETWORK, store)
                    samples.append((time.perf_counter() - start) * 1000)
            _change(engine, rng)
            with Session(engine) as s:
                start = time.perf_counter()
                _python_pass(s, store)
                before.append((time.perf_counter() - start) * 1000)
        with Session(engine) as s:  # the same figures, on the same state
            counted = _python_pass(s, store)
            table = linkage.coverage(s, filters, NETWORK, store)
        shown = {source: tuple(row[:2]) for source, row in table.rows if source in counted}
        if shown != counted:
            raise RuntimeError(f"the SQL count {shown} differs from the Python pass {counted}")
    finally:
        engine.dispose()
    label = f"{name}: coverage table alone (in process), {PARTICIPANTS:,} participants"
    baseline = f"Python pass (before): {median(before):,.0f} ms"
    return [
        Row(f"{label}, first in the process (one run)", "ms", first),
        Row(
            f"{label}, after a consent change",
            "ms",
            median(changed),
            p99(changed),
            baseline,
            median(changed) / median(before),
        ),
        Row(f"{label}, unchanged", "ms", median(unchanged), p99(unchanged)),
    ]


def _page(url: str, settings: Settings, name: str) -> list[Row]:
    """/governance/access through the server: after a change, then unchanged."""
    engine = make_engine(settings.db_url)
    rng = random.Random(70)  # noqa: S311
    changed, unchanged, health = [], [], []
    try:
        with httpx.Client(base_url=url, timeout=600) as client:
            _signed_in(client)
            time.sleep(WARM_UP_S)  # a server restarted, then visited a little later
            first = _server_ms(client.get("/governance/access"))
            for _ in range(RUNS):
                _change(engine, rng)
                changed.append(_server_ms(client.get("/governance/access")))
                unchanged.append(_server_ms(client.get("/governance/access")))
                health.append(_server_ms(client.get("/api/v1/health")))
    finally:
        engine.dispose()
    label = f"{name}: /governance/access, 12 months, {PARTICIPANTS:,} participants"
    floor = median(health)
    return [
        Row(f"{label}, first, {WARM_UP_S} s after the server starts (one run)", "ms", first),
        Row(
            f"{label}, after a consent change",
            "ms",
            median(changed),
            p99(changed),
            "health check",
            median(changed) / floor,
        ),
        Row(
            f"{label}, unchanged",
            "ms",
            median(unchanged),
            p99(unchanged),
            "health check",
            median(unchanged) / floor,
        ),
    ]


def run(tmp: Path) -> list[Row]:
    rows: list[Row] = []
    with pg_database() as pg_url:
        for name, url in (("SQLite", None), ("PostgreSQL", pg_url)):
            settings, stored, seeded = _prepare(tmp / name, url)
            rows.append(
                Row(
                    f"{name}: seed {PARTICIPANTS:,} participants and {stored:,} linked rows",
                    "s",
                    seeded,
                )
            )
            rows += _in_process(settings, name)
            with serve(settings.data_dir, database_url=url) as base:
                rows += _page(base, settings, name)
    return rows
