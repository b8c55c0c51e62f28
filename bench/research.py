"""Researcher extracts and aggregate queries at cohort scale, on the embedded default
(SQLite consent database, DuckDB research store):

- an extract of 100,000 participants across five linked datasets plus the consent data
  (consent filter, pseudonyms, coarsened dates, Parquet + CSV + codebook + manifest),
  beside a bare DuckDB COPY of the same tables to Parquet and CSV;
- an aggregate query (mean BMI by delivery mode, disclosure control applied) over
  1,000,000 linked maternity rows, beside a bare DuckDB GROUP BY of the same table;
- the same query in a project that has asked ``HISTORY`` other questions of the same
  rows, so it is checked against all their answers (``query_history``), beside the
  query checked against its own earlier answer only.

The world is seeded by ``cohort.research.sample_world``, as the research tests seed
theirs: the consent zone bulk-loaded, the store written by its own writer (not through
matching). ``BENCH_RESEARCH_SCALE`` (default 1) scales every count down for a
quick run.
"""

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from sqlmodel import select

from bench.harness import Row, median, p99, scale, timed
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import initialise, open_instance
from cohort.models import Site, User
from cohort.research import extracts, projects, queries, sample_world
from cohort.research.project_data import QUIET
from linkage_jobs.spec import load_specs
from linkage_jobs.store import DUCK_TYPES

SCALE = scale("research")
MOTHERS = int(100_000 * SCALE)
# linked rows per mother (maternity: the query's 1,000,000) or per child
ROWS_PER = {
    "maternity": 10,
    "gp_registrations": 1,
    "birth_notifications": 1,
    "school_census": 1,
    "childrens_social_care": 1,
}
EXTRACT_RUNS = 3
QUERY_RUNS = 7
SNAPSHOT = datetime(2026, 11, 1, tzinfo=UTC)
LINKED_AT = datetime(2026, 6, 1, tzinfo=UTC)
QUERY = queries.Query("maternity", ("Delivery_Mode",), "mean", "BMI_At_Booking")
# Earlier answers of the history project: the query among each ethnic category (6 values),
# then counts by parity (40) and by smoking.
HISTORY = [
    *(
        queries.Query("maternity", ("Delivery_Mode",), filters=(("Ethnic_Category", f"v{i}"),))
        for i in range(6)
    ),
    queries.Query("maternity", ("Parity",)),
    queries.Query("maternity", ("Smoking_At_Booking",)),
]
ITEMS = {"link_mother_health": True, "link_baby_health": True, "link_council": True}


def _seed_consent(settings: Settings) -> None:
    instance = open_instance(settings)
    rng = random.Random(5)  # noqa: S311  (synthetic spread, not a secret)
    enrolled = datetime(2024, 1, 1, tzinfo=UTC)
    mothers = [
        sample_world.Mother(
            study_id=f"BB-{i:07d}",
            enrolled_at=enrolled + timedelta(minutes=i),
            items={**ITEMS, "contact": rng.random() < 0.5},
            age_band=rng.choice(["20_24", "25_29", "30_34"]),
            ethnicity=rng.choice(["white_british", "pakistani", "indian"]),
            language=rng.choice(["en", "en", "en", "ur", "pl"]),
        )
        for i in range(MOTHERS)
    ]
    with session_scope(instance.engine) as s:
        site = Site(code="BRD", name="Bradford")
        staff = User(username="mw", full_name="Mw", role="midwife", password_hash="x")  # noqa: S106
        s.add_all([site, staff])
        s.flush()
        ids = sample_world.enrol(s, site.id, staff.id, mothers)
        sample_world.add_children(s, [(f"BC-{i:07d}", pid) for i, pid in enumerate(ids)])
    instance.engine.dispose()


def _value_sql(kind: str, i: int) -> str:
    """A plausible random value of a payload type, in DuckDB SQL."""
    return {
        "string": f"'v' || (hash(n, {i}) % 6)::VARCHAR",
        "integer": f"(hash(n, {i}) % 40)::BIGINT",
        "number": f"17 + (hash(n, {i}) % 2800) / 100.0",
        "date": f"DATE '2024-01-01' + ((hash(n, {i}) % 700)::INTEGER)",
        "boolean": f"hash(n, {i}) % 2 = 0",
    }[kind]


def _seed_store(path: Path) -> None:
    """Each source's rows generated in DuckDB, written by the store's own writer."""
    with duckdb.connect() as con:
        con.execute(QUIET)
        for name, spec in load_specs().items():
            prefix = "BB" if spec.subject == "mother" else "BC"
            payload = [
                f'CAST({_value_sql(t, i)} AS {DUCK_TYPES[t]}) AS "{c}"'
                for i, (c, t) in enumerate(spec.payload.items())
            ]
            study_id = f"'{prefix}-' || lpad((n % {MOTHERS})::VARCHAR, 7, '0') AS study_id"
            rows = con.sql(
                f"SELECT {', '.join([study_id, *payload])} "  # noqa: S608
                f"FROM range({MOTHERS * ROWS_PER[name]}) t(n)"
            ).df()
            sample_world.link(path, name, rows, linked_at=LINKED_AT)


def _register(settings: Settings) -> None:
    """Rita, on two projects: BENCH, and BENCH-H for the query with a history."""
    instance = open_instance(settings)
    today = datetime.now(UTC).date()
    with session_scope(instance.engine) as s:
        rita = User(username="rita", full_name="Rita", role="researcher", password_hash="x")  # noqa: S106
        s.add(rita)
        s.flush()
        for code in ("BENCH", "BENCH-H"):
            projects.register(
                s,
                projects.Approval(
                    code=code,
                    title="Benchmark",
                    lead="Dr Lead",
                    approval_reference="REC 1",
                    approved_from=today - timedelta(days=1),
                    approved_until=today + timedelta(days=1),
                    variables=("consent", *load_specs()),
                    date_granularity="month",
                    row_level=True,
                ),
                actor="bench",
            )
            projects.add_researcher(s, code, "rita", actor="bench")
    instance.engine.dispose()


def _bare_copy(store: Path, out: Path) -> None:
    with duckdb.connect() as con:
        con.execute(QUIET)
        con.execute(f"ATTACH '{store}' AS store (READ_ONLY)")
        for name in load_specs():
            for fmt in ("parquet", "csv"):
                target = out / f"{name}.{fmt}"
                con.execute(
                    f'COPY (SELECT * FROM store.main."{name}" ORDER BY study_id) '  # noqa: S608
                    f"TO '{target}' (FORMAT {fmt})"
                )


def _bare_group_by(store: Path) -> None:
    with duckdb.connect(str(store), read_only=True) as con:
        con.execute(QUIET)
        con.execute(
            "SELECT Delivery_Mode, count(DISTINCT study_id), avg(BMI_At_Booking) "
            "FROM main.maternity GROUP BY 1"
        ).fetchall()


def run(tmp: Path) -> list[Row]:
    settings = Settings(data_dir=tmp / "var")
    initialise(settings)
    _seed_consent(settings)
    _seed_store(settings.research_store_path)
    _register(settings)
    instance = open_instance(settings)

    def researcher(s) -> User:
        return s.exec(select(User).where(User.username == "rita")).one()

    def extract() -> None:
        with session_scope(instance.engine) as s:
            extracts.make_extract(
                s, settings, instance.keys.pseudonym, researcher(s), "BENCH", snapshot_at=SNAPSHOT
            )

    def query(code: str = "BENCH", wanted: queries.Query = QUERY) -> None:
        with session_scope(instance.engine) as s:
            queries.run(s, settings, instance.keys.pseudonym, researcher(s), code, wanted)

    bare = tmp / "bare"
    bare.mkdir()
    copy_s = timed(lambda: _bare_copy(settings.research_store_path, bare), EXTRACT_RUNS)
    extract_s = timed(extract, EXTRACT_RUNS)
    group_s = timed(lambda: _bare_group_by(settings.research_store_path), QUERY_RUNS)
    query_s = timed(query, QUERY_RUNS)
    for earlier in HISTORY:
        query("BENCH-H", earlier)
    checked_s = timed(lambda: query("BENCH-H"), QUERY_RUNS)
    instance.engine.dispose()
    linked = sum(MOTHERS * n for n in ROWS_PER.values())
    return [
        Row(
            f"extract: {MOTHERS:,} participants, 5 linked datasets ({linked:,} rows) + consent",
            "s",
            median(extract_s),
            p99(extract_s),
            f"bare DuckDB COPY to Parquet + CSV: {median(copy_s):.2f} s",
            median(extract_s) / median(copy_s),
        ),
        Row(
            f"aggregate query with SDC over {MOTHERS * ROWS_PER['maternity']:,} linked rows",
            "s",
            median(query_s),
            p99(query_s),
            f"bare DuckDB GROUP BY: {median(group_s):.3f} s",
            median(query_s) / median(group_s),
        ),
        Row(
            f"the same query checked against a history of {len(HISTORY)} other answers",
            "s",
            median(checked_s),
            p99(checked_s),
            f"checked against its own earlier answer only: {median(query_s):.2f} s",
            median(checked_s) / median(query_s),
        ),
    ]
